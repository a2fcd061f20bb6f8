"""Where in a YAML policy document each validation issue is: the line of the rule and field it names.

PyYAML's node tree (``yaml.compose``) keeps each node's position (``start_mark.line``, from 0); an issue names its
rule by id and its field by a path such as ``when.all[0].ge`` or ``approval.thresholds.discount``. The deepest
node of that path that exists gives the line; an issue whose rule cannot be found is put on line 1."""

from __future__ import annotations

import re

import yaml

_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _parts(field: str) -> list:
    return [int(index) if index else key for key, index in _PART.findall(field or "")]


def _child(node, part):
    if isinstance(node, yaml.MappingNode) and isinstance(part, str):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == part:
                return key, value
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        return node.value[part], node.value[part]
    return None, None


def _rule_node(root, rule_id: str):
    _, rules = _child(root, "rules")
    if not isinstance(rules, yaml.SequenceNode):
        return None
    for index, rule in enumerate(rules.value):
        _, id_node = _child(rule, "id")
        if isinstance(id_node, yaml.ScalarNode) and id_node.value == rule_id:
            return rule
        if rule_id == f"#{index + 1}":  # a rule without a valid id is named by its position
            return rule
    return None


def issue_line(root, issue) -> int:
    """The line (from 1) an issue is about, in the composed document ``root``."""
    node = root
    if issue.rule_id:
        rule = _rule_node(root, issue.rule_id)
        if rule is None:
            return 1
        node = rule
    line = node.start_mark.line
    for part in _parts(issue.field):
        key, value = _child(node, part)
        if value is None:
            break
        line = (key if key is not None else value).start_mark.line
        node = value
    else:
        # "EUR: '5O.00' is not an amount": the reason names an entry of the mapping the field is
        head = (issue.reason or "").split(":", 1)[0].strip()
        key, value = _child(node, head) if head and ":" in (issue.reason or "") else (None, None)
        if key is not None:
            line = key.start_mark.line
    return line + 1


def issues_by_line(text: str, issues) -> dict[int, list]:
    """{line number (from 1): [issue, ...]} for a YAML text; a syntax error gives its own line."""
    try:
        root = yaml.compose(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        return {(mark.line + 1) if mark else 1: list(issues)}
    except yaml.YAMLError:
        return {1: list(issues)}
    if root is None:
        return {1: list(issues)}
    lines: dict[int, list] = {}
    for issue in issues:
        lines.setdefault(issue_line(root, issue), []).append(issue)
    return lines
