"""A greeting, released by a GitLab pipeline and signed with keyless."""

__all__ = ["greet"]


def greet(name: str) -> str:
    """Greet `name`, which must not be empty."""
    if not name:
        raise ValueError("name must not be empty")
    return f"Hello, {name}!"
