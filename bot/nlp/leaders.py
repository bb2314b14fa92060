"""A small gazetteer of heads of state and government (2000 onwards) with terms of office.

It is a fallback, never the detector: it completes a surname-only mention ("Obama") to the full
name, and marks an untitled mention as a leader when the story falls inside the term of office.
Stories name most leaders with a title; this covers the ones that do not.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class Leader:
    """One head of state or government and a term of office ((year, month), inclusive)."""

    name: str
    title: str
    country: str
    start: tuple[int, int]
    end: tuple[int, int] | None


# name | title | country | in office from | until (YYYY-MM; empty while in office)
_TABLE = """
George H. W. Bush|President|United States|1989-01|1993-01
Bill Clinton|President|United States|1993-01|2001-01
George W. Bush|President|United States|2001-01|2009-01
Barack Obama|President|United States|2009-01|2017-01
Donald Trump|President|United States|2017-01|2021-01
Donald Trump|President|United States|2025-01|
Joe Biden|President|United States|2021-01|2025-01
Tony Blair|Prime Minister|United Kingdom|1997-05|2007-06
Gordon Brown|Prime Minister|United Kingdom|2007-06|2010-05
David Cameron|Prime Minister|United Kingdom|2010-05|2016-07
Theresa May|Prime Minister|United Kingdom|2016-07|2019-07
Boris Johnson|Prime Minister|United Kingdom|2019-07|2022-09
Rishi Sunak|Prime Minister|United Kingdom|2022-10|2024-07
Keir Starmer|Prime Minister|United Kingdom|2024-07|
Jacques Chirac|President|France|1995-05|2007-05
Nicolas Sarkozy|President|France|2007-05|2012-05
François Hollande|President|France|2012-05|2017-05
Emmanuel Macron|President|France|2017-05|
Gerhard Schröder|Chancellor|Germany|1998-10|2005-11
Angela Merkel|Chancellor|Germany|2005-11|2021-12
Olaf Scholz|Chancellor|Germany|2021-12|2025-05
Friedrich Merz|Chancellor|Germany|2025-05|
Silvio Berlusconi|Prime Minister|Italy|2001-06|2006-05
Silvio Berlusconi|Prime Minister|Italy|2008-05|2011-11
Romano Prodi|Prime Minister|Italy|2006-05|2008-05
Matteo Renzi|Prime Minister|Italy|2014-02|2016-12
Paolo Gentiloni|Prime Minister|Italy|2016-12|2018-06
Giuseppe Conte|Prime Minister|Italy|2018-06|2021-02
Mario Draghi|Prime Minister|Italy|2021-02|2022-10
Giorgia Meloni|Prime Minister|Italy|2022-10|
José Luis Rodríguez Zapatero|Prime Minister|Spain|2004-04|2011-12
Mariano Rajoy|Prime Minister|Spain|2011-12|2018-06
Pedro Sánchez|Prime Minister|Spain|2018-06|
Vladimir Putin|President|Russia|2000-05|
Dmitry Medvedev|President|Russia|2008-05|2012-05
Hu Jintao|President|China|2003-03|2013-03
Xi Jinping|President|China|2013-03|
Wen Jiabao|Premier|China|2003-03|2013-03
Li Keqiang|Premier|China|2013-03|2023-03
Junichiro Koizumi|Prime Minister|Japan|2001-04|2006-09
Shinzo Abe|Prime Minister|Japan|2006-09|2007-09
Shinzo Abe|Prime Minister|Japan|2012-12|2020-09
Yoshihide Suga|Prime Minister|Japan|2020-09|2021-10
Fumio Kishida|Prime Minister|Japan|2021-10|2024-10
Jean Chrétien|Prime Minister|Canada|1993-11|2003-12
Paul Martin|Prime Minister|Canada|2003-12|2006-02
Stephen Harper|Prime Minister|Canada|2006-02|2015-11
Justin Trudeau|Prime Minister|Canada|2015-11|2025-03
Manmohan Singh|Prime Minister|India|2004-05|2014-05
Narendra Modi|Prime Minister|India|2014-05|
Kim Jong-il|Leader|North Korea|1994-07|2011-12
Kim Jong-un|Leader|North Korea|2011-12|
Roh Moo-hyun|President|South Korea|2003-02|2008-02
Lee Myung-bak|President|South Korea|2008-02|2013-02
Park Geun-hye|President|South Korea|2013-02|2017-03
Moon Jae-in|President|South Korea|2017-05|2022-05
Yoon Suk Yeol|President|South Korea|2022-05|2025-04
Ariel Sharon|Prime Minister|Israel|2001-03|2006-04
Ehud Olmert|Prime Minister|Israel|2006-01|2009-03
Benjamin Netanyahu|Prime Minister|Israel|2009-03|2021-06
Benjamin Netanyahu|Prime Minister|Israel|2022-12|
Mahmoud Abbas|President|Palestinian Territory|2005-01|
Recep Tayyip Erdoğan|President|Turkey|2003-03|
John Howard|Prime Minister|Australia|1996-03|2007-12
Kevin Rudd|Prime Minister|Australia|2007-12|2010-06
Julia Gillard|Prime Minister|Australia|2010-06|2013-06
Malcolm Turnbull|Prime Minister|Australia|2015-09|2018-08
Scott Morrison|Prime Minister|Australia|2018-08|2022-05
Anthony Albanese|Prime Minister|Australia|2022-05|
Luiz Inácio Lula da Silva|President|Brazil|2003-01|2010-12
Luiz Inácio Lula da Silva|President|Brazil|2023-01|
Jair Bolsonaro|President|Brazil|2019-01|2022-12
Enrique Peña Nieto|President|Mexico|2012-12|2018-11
Andrés Manuel López Obrador|President|Mexico|2018-12|2024-09
Rodrigo Duterte|President|Philippines|2016-06|2022-06
Volodymyr Zelensky|President|Ukraine|2019-05|
Joko Widodo|President|Indonesia|2014-10|2024-10
Hassan Rouhani|President|Iran|2013-08|2021-08
Abdel Fattah el-Sisi|President|Egypt|2014-06|
Bertie Ahern|Taoiseach|Ireland|1997-06|2008-05
Leo Varadkar|Taoiseach|Ireland|2017-06|2020-06
Leo Varadkar|Taoiseach|Ireland|2022-12|2024-04
Donald Tusk|European Council President|European Union|2014-12|2019-11
"""


def _month(text: str) -> tuple[int, int] | None:
    if not text:
        return None
    year, month = text.split("-")
    return int(year), int(month)


def _parse(table: str) -> tuple[Leader, ...]:
    out: list[Leader] = []
    for line in table.strip().splitlines():
        name, title, country, start, end = line.split("|")
        begun = _month(start)
        assert begun is not None
        out.append(Leader(name, title, country, begun, _month(end)))
    return tuple(out)


LEADERS = _parse(_TABLE)


def _key(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    return " ".join(plain.replace("-", " ").replace(".", " ").lower().split())


@functools.cache
def _index() -> dict[str, tuple[Leader, ...]]:
    out: dict[str, list[Leader]] = {}
    for leader in LEADERS:
        words = _key(leader.name).split()
        keys = {" ".join(words), words[-1], f"{words[0]} {words[-1]}"}
        if len(words) > 2:
            keys.add(f"{words[0]} {words[1]}")  # the model often cuts "Enrique Peña Nieto" short
        if leader.country in {"China", "North Korea", "South Korea"}:
            keys.add(words[0])  # family name first
        for key in keys:
            out.setdefault(key, []).append(leader)
    return {k: tuple(v) for k, v in out.items()}


def lookup(name: str, published: date | None) -> Leader | None:
    """The leader a mention names, if exactly one fits (in office when the story was published)."""
    found = _index().get(_key(name), ())
    if published is not None:
        now = (published.year, published.month)
        found = tuple(x for x in found if x.start <= now <= (x.end or now))
    names = {x.name for x in found}
    if len(names) != 1:
        return None
    return found[-1]
