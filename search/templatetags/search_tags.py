from django import template

from search.views import hit_url

register = template.Library()


@register.filter
def search_hit_url(hit):
    return hit_url(hit)
