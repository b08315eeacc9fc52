"""Where a lead came from: the channel of a visit, classified from its utm_* tags, click
ids and referrer. A pure function, so the rules are read and tested as a table.

Order matters and follows how marketers read it: a paid click is paid even when it came
through Baidu; an e-mail link is e-mail even when opened in WeChat's browser.
"""

import re
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qs, urlsplit

PAID_MEDIUMS = {"cpc", "ppc", "paid", "sem", "paidsearch", "paid_search", "paid-search", "cpm", "cpa"}
EMAIL_MEDIUMS = {"email", "e-mail", "edm", "newsletter", "mail"}
SOCIAL_MEDIUMS = {"social", "social-media", "social_media", "sns", "wechat", "weixin"}
# Click ids that search and ad platforms append to the landing URL.
CLICK_IDS = {
    "gclid",
    "gbraid",
    "wbraid",
    "dclid",
    "msclkid",
    "bd_vid",
    "bdclkid",
    "qhclickid",
    "sogou_vid",
    "uctrackid",
}
SEARCH_ENGINES = (
    "baidu.com",
    "bing.com",
    "sogou.com",
    "so.com",
    "sm.cn",
    "yahoo.com",
    "duckduckgo.com",
    "yandex.ru",
    "yandex.com",
    "naver.com",
    "ecosia.org",
)
_GOOGLE = re.compile(r"(^|\.)google(\.[a-z]{2,3}){1,2}$")
SOCIAL_SITES = (
    "weixin.qq.com",
    "wx.qq.com",
    "weibo.com",
    "weibo.cn",
    "zhihu.com",
    "toutiao.com",
    "douyin.com",
    "xiaohongshu.com",
    "xhslink.com",
    "bilibili.com",
    "kuaishou.com",
    "36kr.com",
    "huxiu.com",
    "linkedin.com",
    "lnkd.in",
    "twitter.com",
    "x.com",
    "t.co",
    "facebook.com",
    "fb.com",
    "m.facebook.com",
    "instagram.com",
    "youtube.com",
    "reddit.com",
)
SOCIAL_SOURCES = {
    "wechat",
    "weixin",
    "weibo",
    "zhihu",
    "toutiao",
    "douyin",
    "xiaohongshu",
    "bilibili",
    "kuaishou",
    "linkedin",
    "twitter",
    "x",
    "facebook",
    "instagram",
    "youtube",
    "reddit",
    "36kr",
    "huxiu",
}
SEARCH_SOURCES = {"baidu", "google", "bing", "sogou", "360", "so", "shenma", "sm", "yahoo", "duckduckgo"}


def host_of(url: str) -> str:
    """The lower-cased host of a URL without port and a leading www., or ""."""
    try:
        host = urlsplit(url or "").hostname or ""
    except ValueError:
        return ""
    host = host.lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host


def _matches(host: str, domains: Iterable[str]) -> bool:
    return any(host == domain or host.endswith("." + domain) for domain in domains)


def is_search_engine(host: str) -> bool:
    return _matches(host, SEARCH_ENGINES) or bool(_GOOGLE.search(host))


def classify_channel(
    utm: Mapping[str, str],
    referrer: str = "",
    landing_page: str = "",
    *,
    partner_domains: Iterable[str] = (),
    site_hosts: Iterable[str] = (),
) -> str:
    """One of CHANNELS for a visit.

    `utm` holds utm_source/utm_medium (any case); `landing_page` may carry click ids in its
    query; a referrer on one of `site_hosts` (our own pages) counts as none.
    """
    medium = (utm.get("utm_medium") or "").strip().lower()
    source = (utm.get("utm_source") or "").strip().lower()
    try:
        query = parse_qs(urlsplit(landing_page or "").query)
    except ValueError:
        query = {}
    partners = [domain.lower().strip() for domain in partner_domains if domain and domain.strip()]
    own = {host_of("//" + host) if "//" not in host else host_of(host) for host in site_hosts if host}
    ref_host = host_of(referrer)
    if ref_host in own:
        ref_host = ""

    if medium in PAID_MEDIUMS or CLICK_IDS & set(query):
        return "paid_search"
    if medium in EMAIL_MEDIUMS:
        return "email"
    if (source and _matches(source, partners)) or (ref_host and _matches(ref_host, partners)):
        return "partner"
    if (
        medium in SOCIAL_MEDIUMS
        or source in SOCIAL_SOURCES
        or (ref_host and _matches(ref_host, SOCIAL_SITES))
    ):
        return "social"
    if medium == "organic" or source in SEARCH_SOURCES or (ref_host and is_search_engine(ref_host)):
        return "organic_search"
    if ref_host or medium or source:
        return "referral"
    return "direct"


def source_label(utm: Mapping[str, str], referrer: str, *, site_hosts: Iterable[str] = ()) -> str:
    """A short source for the lead list: utm_source, else the referring host, else direct."""
    source = (utm.get("utm_source") or "").strip()
    if source:
        return source[:120]
    host = host_of(referrer)
    own = {host_of(h if "//" in h else "//" + h) for h in site_hosts if h}
    return host[:120] if host and host not in own else "direct"
