"""Free-mail providers: an address there says nothing about the person's company."""

from __future__ import annotations

FREE_MAIL_DOMAINS = frozenset(
    {
        "aol.com", "att.net", "bluewin.ch", "btinternet.com", "comcast.net", "cox.net",
        "email.com", "fastmail.com", "fastmail.fm", "free.fr", "freenet.de", "gmail.com",
        "gmx.at", "gmx.ch", "gmx.com", "gmx.de", "gmx.net", "googlemail.com", "hey.com",
        "hotmail.co.uk", "hotmail.com", "hotmail.de", "hotmail.fr", "hotmail.it", "hushmail.com",
        "icloud.com", "inbox.com", "laposte.net", "libero.it", "live.com", "live.co.uk",
        "live.de", "live.fr", "mac.com", "mail.com", "mail.ru", "me.com", "msn.com",
        "naver.com", "o2.pl", "online.de", "orange.fr", "outlook.com", "outlook.de",
        "outlook.fr", "pm.me", "proton.me", "protonmail.com", "qq.com", "rambler.ru",
        "rediffmail.com", "seznam.cz", "sfr.fr", "sky.com", "t-online.de", "tutanota.com",
        "tuta.io", "verizon.net", "virgilio.it", "wanadoo.fr", "web.de", "wp.pl",
        "yahoo.co.jp", "yahoo.co.uk", "yahoo.com", "yahoo.de", "yahoo.fr", "yahoo.it",
        "yandex.com", "yandex.ru", "ymail.com", "zoho.com", "163.com", "126.com",
    }
)  # fmt: skip


def company_domain(email: str | None) -> str | None:
    """The email's domain, unless a free-mail provider hosts it."""
    if email is None:
        return None
    domain = email.rpartition("@")[2]
    return None if domain in FREE_MAIL_DOMAINS else domain
