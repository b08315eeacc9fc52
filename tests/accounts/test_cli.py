"""`flask users create`."""

from accounts.services import find_user


def test_users_create_with_password_option(runner):
    result = runner.invoke(
        args=["users", "create", "ops@example.com", "--role", "marketer", "--password", "long enough pw"]
    )
    assert result.exit_code == 0, result.output
    assert find_user("ops@example.com").role == "marketer"


def test_users_create_prompts_for_password(runner):
    result = runner.invoke(
        args=["users", "create", "p@example.com", "--role", "sales"], input="long enough pw\nlong enough pw\n"
    )
    assert result.exit_code == 0, result.output
    assert find_user("p@example.com").check_password("long enough pw")


def test_users_create_reports_errors(runner):
    result = runner.invoke(
        args=["users", "create", "q@example.com", "--role", "sales", "--password", "short"]
    )
    assert result.exit_code == 1
    assert "10" in result.output  # the policy's length, in the site's language
    bad_role = runner.invoke(
        args=["users", "create", "q@example.com", "--role", "owner", "--password", "long enough pw"]
    )
    assert bad_role.exit_code == 2
    assert find_user("q@example.com") is None
