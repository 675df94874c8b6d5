from council import permissions


def roles(request):
    user = getattr(request, "user", None)
    return {
        "role": permissions.role_of(user),
        "is_clerk": permissions.is_clerk(user),
        "is_councillor": permissions.is_councillor(user),
    }
