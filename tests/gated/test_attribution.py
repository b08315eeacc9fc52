"""Channel classification as a table: utm tags, click ids and referrers."""

import pytest

from gated.attribution import classify_channel, host_of, source_label

PARTNERS = ["partner.example.com", "36kr-partner.cn"]
SITE = ["lodestar.example", "localhost"]


@pytest.mark.parametrize(
    ("utm", "referrer", "landing", "channel"),
    [
        ({"utm_medium": "cpc", "utm_source": "baidu"}, "", "", "paid_search"),
        ({"utm_medium": "PPC"}, "", "", "paid_search"),
        ({"utm_medium": "sem"}, "https://www.baidu.com/s", "", "paid_search"),
        ({"utm_medium": "paid"}, "", "", "paid_search"),
        ({}, "https://www.google.com/", "/library/x?gclid=abc", "paid_search"),
        ({}, "https://www.bing.com/", "/library/x?msclkid=abc", "paid_search"),
        ({}, "https://www.baidu.com/", "/library/x?bd_vid=123", "paid_search"),
        ({}, "https://www.baidu.com/s?wd=saas", "", "organic_search"),
        ({}, "https://m.baidu.com/from=844b", "", "organic_search"),
        ({}, "https://www.google.com.hk/", "", "organic_search"),
        ({}, "https://www.google.de/search", "", "organic_search"),
        ({}, "https://cn.bing.com/search?q=x", "", "organic_search"),
        ({}, "https://www.sogou.com/web?query=x", "", "organic_search"),
        ({}, "https://www.so.com/s?q=x", "", "organic_search"),
        ({}, "https://m.sm.cn/s?q=x", "", "organic_search"),
        ({"utm_source": "baidu", "utm_medium": "organic"}, "", "", "organic_search"),
        ({}, "https://partner.example.com/list", "", "partner"),
        ({}, "https://shop.partner.example.com/", "", "partner"),
        ({"utm_source": "36kr-partner.cn", "utm_medium": "referral"}, "", "", "partner"),
        ({}, "https://mp.weixin.qq.com/s/abc", "", "social"),
        ({}, "https://weibo.com/u/1", "", "social"),
        ({}, "https://www.zhihu.com/question/1", "", "social"),
        ({}, "https://www.toutiao.com/a1", "", "social"),
        ({}, "https://www.douyin.com/video/1", "", "social"),
        ({}, "https://www.linkedin.com/feed", "", "social"),
        ({}, "https://t.co/abc", "", "social"),
        ({}, "https://x.com/someone", "", "social"),
        ({}, "https://www.facebook.com/", "", "social"),
        ({"utm_source": "wechat"}, "", "", "social"),
        ({"utm_medium": "social", "utm_source": "anything"}, "", "", "social"),
        ({"utm_medium": "email", "utm_source": "newsletter"}, "", "", "email"),
        ({"utm_medium": "EDM"}, "https://mp.weixin.qq.com/", "", "email"),
        ({}, "https://blog.somewhere.org/post", "", "referral"),
        ({"utm_source": "some-site"}, "", "", "referral"),
        ({}, "", "", "direct"),
        ({}, "https://lodestar.example/help/x", "", "direct"),
        ({}, "http://localhost/library/", "", "direct"),
        ({}, "not a url", "", "direct"),
        ({}, "http://[::1", "", "direct"),
    ],
)
def test_channel_classification(utm, referrer, landing, channel):
    assert classify_channel(utm, referrer, landing, partner_domains=PARTNERS, site_hosts=SITE) == channel


def test_hosts_drop_www_port_and_case():
    assert host_of("https://WWW.Baidu.com:443/s") == "baidu.com"
    assert host_of("") == ""


@pytest.mark.parametrize(
    ("utm", "referrer", "label"),
    [
        ({"utm_source": "baidu"}, "https://www.google.com/", "baidu"),
        ({}, "https://www.zhihu.com/q", "zhihu.com"),
        ({}, "https://lodestar.example/x", "direct"),
        ({}, "", "direct"),
    ],
)
def test_source_label(utm, referrer, label):
    assert source_label(utm, referrer, site_hosts=SITE) == label
