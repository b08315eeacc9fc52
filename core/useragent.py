"""What a page needs to know of the browser it answers: whether it is WeChat's in-app
browser, which does not download files itself (a download link there silently does
nothing; a PDF opened inline shows in its viewer, and its menu opens the page in the
phone's own browser)."""

WECHAT_MARKER = "MicroMessenger"


def in_wechat(user_agent: str | None) -> bool:
    """Whether the user agent is WeChat's in-app browser (also WeCom's, which says
    MicroMessenger too and behaves alike)."""
    return WECHAT_MARKER in (user_agent or "")
