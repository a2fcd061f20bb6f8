from .permissions import request_is_agent, request_is_manager


def roles(request):
    """is_agent / is_manager for the templates, from the one cached role query."""
    if not hasattr(request, "user"):
        return {}
    return {"is_agent": request_is_agent(request), "is_manager": request_is_manager(request)}
