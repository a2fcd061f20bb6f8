from django import template

from caseapp import formatting

register = template.Library()


@register.filter
def file_size(size):
    """A file's size in the reader's language ("2,4 MB")."""
    return formatting.file_size(size)
