import pytest

from hello_py import greet


def test_greets_by_name():
    assert greet("GitLab") == "Hello, GitLab!"


def test_refuses_an_empty_name():
    with pytest.raises(ValueError):
        greet("")
