"""Mailboxes that say nothing about a company: free ones anyone can open, and throwaways.

One place for every part that asks: screening (a mild "free_email" signal, a
strong "disposable_email" one), appending (no company domain from such an
address) and deal registration (no account can be registered on one, and no
lead is owned through one). The throwaway list is the disposable-email-domains
package's, read once a process.
"""

from __future__ import annotations

import re
from functools import cache

FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "yahoo.de", "yahoo.fr",
        "yahoo.ca", "ymail.com", "rocketmail.com", "outlook.com", "outlook.de", "hotmail.com",
        "hotmail.co.uk", "hotmail.de", "hotmail.fr", "live.com", "live.co.uk", "live.de",
        "msn.com", "icloud.com", "me.com", "mac.com", "aol.com", "aol.de", "proton.me",
        "protonmail.com", "protonmail.ch", "pm.me", "gmx.de", "gmx.net", "gmx.com", "gmx.at",
        "gmx.ch", "web.de", "t-online.de", "freenet.de", "posteo.de", "mailbox.org",
        "mail.com", "mail.ru", "yandex.com", "yandex.ru", "zoho.com", "fastmail.com",
        "tutanota.com", "tuta.io", "hey.com", "qq.com", "163.com", "126.com", "naver.com",
        "orange.fr", "wanadoo.fr", "free.fr", "laposte.net", "sfr.fr", "libero.it",
        "virgilio.it", "btinternet.com", "sky.com", "virginmedia.com", "comcast.net",
        "verizon.net", "att.net", "sbcglobal.net", "bellsouth.net", "cox.net", "charter.net",
        "earthlink.net", "shaw.ca", "rogers.com", "sympatico.ca", "bigpond.com", "optusnet.com.au",
        "rediffmail.com", "seznam.cz", "wp.pl", "o2.pl", "interia.pl", "bluewin.ch",
    }
)  # fmt: skip
# Providers with a mail domain in many countries (yahoo.co.jp, hotmail.es, gmx.fr ...).
FREE_MAIL_NAMES = frozenset(
    {"gmail", "googlemail", "yahoo", "hotmail", "outlook", "live", "aol", "gmx", "icloud",
     "protonmail", "proton", "yandex", "zoho"}
)  # fmt: skip
# A country's suffix after a provider's name: .fr, .co.jp, .com.br
_NATIONAL_SUFFIX = re.compile(r"(?:co\.|com\.)?[a-z]{2}")


def is_free_mail(domain: str) -> bool:
    """Whether ``domain`` (lower case, as after the @) is a free mailbox provider's."""
    if domain in FREE_MAIL_DOMAINS:
        return True
    name, _, rest = domain.partition(".")
    return name in FREE_MAIL_NAMES and _NATIONAL_SUFFIX.fullmatch(rest) is not None


def is_disposable(domain: str) -> bool:
    """Whether ``domain`` or a domain it is under (x.mailinator.com) hands out throwaways."""
    parts = domain.split(".")
    listed = _disposable_domains()
    return any(".".join(parts[i:]) in listed for i in range(len(parts) - 1))


@cache
def _disposable_domains() -> frozenset[str]:
    from disposable_email_domains import blocklist

    return frozenset(blocklist)
