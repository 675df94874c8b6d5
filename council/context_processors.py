from council import permissions


def roles(request):
    user = getattr(request, "user", None)
    return {
        "role": permissions.role_of(user),
        "is_clerk": permissions.is_clerk(user),
        "is_councillor": permissions.is_councillor(user),
    }


def reading(request):
    """The signed-in member's text size: a class on the page's root element (see base.html)."""
    person = permissions.person_of(getattr(request, "user", None))
    return {"text_size": person.text_size if person else ""}
