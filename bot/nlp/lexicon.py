"""Word lists the summit extractor relies on: titles, summit series, cues and country names."""

from __future__ import annotations

import bisect
import functools
import gzip
import re
from array import array
from pathlib import Path

# Titles of heads of state or government. Longer phrases win over shorter ones, so
# "vice president" (in OTHER_TITLES) beats "president".
HEAD_TITLES: frozenset[str] = frozenset(
    {
        "president",
        "prime minister",
        "premier",
        "chancellor",
        "king",
        "queen",
        "emir",
        "amir",
        "sultan",
        "supreme leader",
        "leader",
        "taoiseach",
        "shah",
        "pope",
        "monarch",
        "head of state",
        "head of government",
        "grand duke",
        "crown prince",
        "counterpart",
        "chairman",
        "european council president",
        "president of the european council",
        "president of the european union",
    }
)

# Titles that never make their holder a head of state or government.
OTHER_TITLES: frozenset[str] = frozenset(
    {
        "vice president",
        "vice-president",
        "vice premier",
        "vice chairman",
        "deputy prime minister",
        "deputy leader",
        "deputy president",
        "former president",
        "former prime minister",
        "former leader",
        "ex-president",
        "president-elect",
        "minister",
        "foreign minister",
        "finance minister",
        "defence minister",
        "defense minister",
        "trade minister",
        "interior minister",
        "foreign secretary",
        "home secretary",
        "secretary",
        "secretary of state",
        "state secretary",
        "secretary-general",
        "secretary general",
        "chancellor of the exchequer",
        "spokesman",
        "spokeswoman",
        "spokesperson",
        "press secretary",
        "adviser",
        "advisor",
        "national security adviser",
        "ambassador",
        "envoy",
        "special envoy",
        "aide",
        "official",
        "senator",
        "sen.",
        "congressman",
        "congresswoman",
        "representative",
        "rep.",
        "governor",
        "gov.",
        "mayor",
        "opposition leader",
        "party leader",
        "majority leader",
        "minority leader",
        "house speaker",
        "speaker",
        "chief of staff",
        "commissioner",
        "negotiator",
        "chief negotiator",
        "analyst",
        "professor",
        "general",
        "gen.",
        "admiral",
        "coach",
        "manager",
        "chief executive",
        "ceo",
        "founder",
        "mp",
        "lawmaker",
        "director",
        "first lady",
        "european commission president",
        "commission president",
        "president of the european commission",
    }
)

# Words before "leader" / "president" / "chairman" that make it a party, house or company office.
NON_STATE_QUALIFIERS: frozenset[str] = frozenset(
    {
        "opposition",
        "party",
        "labour",
        "conservative",
        "tory",
        "democratic",
        "democrat",
        "republican",
        "liberal",
        "majority",
        "minority",
        "senate",
        "house",
        "rebel",
        "union",
        "group",
        "company",
        "club",
        "team",
        "fed",
        "bank",
        "board",
        "committee",
        "campaign",
        "militant",
        "religious",
        "spiritual",
        "business",
        "world",
    }
)

SUMMIT_SERIES: dict[str, str] = {
    "g7": "G7",
    "g-7": "G7",
    "g 7": "G7",
    "group of seven": "G7",
    "g8": "G8",
    "g-8": "G8",
    "group of eight": "G8",
    "g20": "G20",
    "g-20": "G20",
    "group of 20": "G20",
    "group of twenty": "G20",
    "nato": "NATO",
    "apec": "APEC",
    "asia-pacific economic cooperation": "APEC",
    "asean": "ASEAN",
    "east asia summit": "East Asia Summit",
    "european council": "EU Council",
    "eu council": "EU Council",
    "eu summit": "EU Council",
    "brics": "BRICS",
    "sco": "SCO",
    "shanghai cooperation organisation": "SCO",
    "shanghai cooperation organization": "SCO",
    "quad": "Quad",
    "african union": "African Union",
    "arab league": "Arab League",
    "chogm": "CHOGM",
    "commonwealth heads of government": "CHOGM",
    "commonwealth summit": "CHOGM",
    "opec": "OPEC",
    "mercosur": "Mercosur",
    "ecowas": "ECOWAS",
    "gcc": "GCC",
    "gulf cooperation council": "GCC",
    "organization of american states": "OAS",
    "summit of the americas": "Summit of the Americas",
    "cop26": "COP",
    "un general assembly": "UN General Assembly",
    "u.n. general assembly": "UN General Assembly",
}

VENUE_HEADS: frozenset[str] = frozenset(
    {
        "hotel",
        "palace",
        "hall",
        "resort",
        "castle",
        "villa",
        "chateau",
        "château",
        "manor",
        "guesthouse",
        "residence",
        "convention center",
        "convention centre",
        "conference center",
        "conference centre",
        "congress center",
        "congress centre",
        "international center",
        "international centre",
        "summit venue",
        "estate",
        "lodge",
        "pavilion",
        "kremlin",
        "elysee",
        "élysée",
    }
)

MEETING_WORDS: frozenset[str] = frozenset(
    {
        "summit",
        "summits",
        "meet",
        "meets",
        "met",
        "meeting",
        "meetings",
        "talks",
        "bilateral",
        "hosted",
        "hosts",
        "host",
        "hosting",
        "visit",
        "visits",
        "visited",
        "visiting",
        "gathering",
        "gathered",
        "sit-down",
        "news conference",
        "press conference",
        "joint statement",
        "joint declaration",
        "handshake",
        "shook hands",
        "welcomed",
        "state visit",
        "counterpart",
        "counterparts",
        "leaders",
    }
)

MOUNTAIN_WORDS: frozenset[str] = frozenset(
    {
        "mountain",
        "mountains",
        "mount",
        "mt",
        "peak",
        "peaks",
        "climb",
        "climbed",
        "climber",
        "climbers",
        "climbing",
        "mountaineer",
        "mountaineers",
        "everest",
        "k2",
        "kilimanjaro",
        "altitude",
        "hiking",
        "hikers",
        "hike",
        "trail",
        "expedition",
        "sherpa",
        "ascent",
        "metres",
        "feet",
        "base camp",
        "snow",
        "ridge",
    }
)

PLACE_SUFFIXES: frozenset[str] = frozenset(
    {
        "county",
        "avenue",
        "street",
        "road",
        "drive",
        "park",
        "high",
        "school",
        "township",
        "station",
        "hill",
        "hills",
        "lake",
        "mall",
        "medical",
        "hospital",
        "bank",
        "church",
        "fire",
        "police",
        "sheriff",
        "district",
        "borough",
        "city",
        "village",
        "heights",
        "ridge",
        "entertainment",
        "materials",
        "pointe",
        "bechtel",
    }
)

CONFERENCE_WORDS: frozenset[str] = frozenset(
    {
        "conference",
        "conferences",
        "expo",
        "exhibition",
        "exhibitors",
        "convention",
        "festival",
        "keynote",
        "attendees",
        "startups",
        "startup",
        "start-ups",
        "developers",
        "developer",
        "panel",
        "panellists",
        "panelists",
        "booth",
        "delegates",
        "speakers",
        "sessions",
        "investors",
        "industry",
        "gdc",
        "ces",
        "tickets",
        "sponsors",
        "webinar",
        "workshop",
        "forum",
        "hackathon",
        "games",
        "gaming",
        "tech",
        "technology",
    }
)

# Modifiers that make "summit" an event of an industry rather than of leaders.
CONFERENCE_MODIFIERS: frozenset[str] = frozenset(
    {
        "web",
        "tech",
        "technology",
        "mobile",
        "business",
        "investor",
        "investment",
        "ai",
        "crypto",
        "blockchain",
        "health",
        "healthcare",
        "industry",
        "marketing",
        "developer",
        "developers",
        "games",
        "gaming",
        "media",
        "digital",
        "innovation",
        "startup",
        "security",
        "cloud",
        "data",
        "leadership",
        "women",
        "youth",
        "education",
        "food",
        "fashion",
        "music",
        "film",
        "energy",
        "sustainability",
        "retail",
        "finance",
        "fintech",
        "software",
        "cyber",
        "beauty",
        "sales",
        "annual",
        "internet",
    }
)

SPORT_WORDS: frozenset[str] = frozenset(
    {
        "rugby",
        "football",
        "soccer",
        "cricket",
        "tennis",
        "golf",
        "basketball",
        "baseball",
        "hockey",
        "league",
        "championship",
        "championships",
        "tournament",
        "match",
        "matches",
        "goal",
        "goals",
        "striker",
        "midfielder",
        "defender",
        "goalkeeper",
        "coach",
        "season",
        "grand slam",
        "medal",
        "olympic",
        "olympics",
        "cup",
        "squad",
        "fixture",
        "fixtures",
        "scored",
        "win",
        "victory",
        "defeat",
        "points",
        "table",
        "title",
        "champions",
        "premiership",
        "seed",
        "seeded",
        "final",
        "semi-final",
        "quarter-final",
        "try",
        "tries",
        "player",
        "players",
        "fans",
        "stadium",
        "race",
        "standings",
        "unbeaten",
    }
)

MINISTER_MEETING_WORDS: frozenset[str] = frozenset(
    {
        "finance ministers",
        "foreign ministers",
        "defence ministers",
        "defense ministers",
        "trade ministers",
        "interior ministers",
        "energy ministers",
        "health ministers",
        "agriculture ministers",
        "environment ministers",
        "ministers",
        "ministerial",
        "central bank governors",
        "central bankers",
        "negotiators",
        "working-level",
        "sherpas",
    }
)

# Groups whose "summit" is not a meeting of heads of state or government.
NON_LEADER_GROUPS: frozenset[str] = frozenset(
    {
        "bishops", "cardinals", "clergy", "executives", "ceos", "scientists", "experts",
        "activists", "mayors", "governors", "students", "teachers", "doctors", "unions",
        "farmers", "business", "chiefs", "police", "researchers", "youth", "women's",
    }
)  # fmt: skip

PHONE_WORDS: frozenset[str] = frozenset(
    {
        "phone call",
        "phone calls",
        "telephone call",
        "telephone",
        "by phone",
        "by telephone",
        "phoned",
        "video call",
        "videoconference",
        "video conference",
        "call with",
        "spoke by phone",
        "on the phone",
        "phone conversation",
        "telephone conversation",
    }
)

FORMER_WORDS: frozenset[str] = frozenset({"former", "ex", "late", "then", "past", "previous"})

# Demonyms and short forms that name a country but are not its geonames name.
COUNTRY_ALIASES: dict[str, str] = {
    "us": "United States",
    "u.s.": "United States",
    "u.s": "United States",
    "usa": "United States",
    "u.s.a.": "United States",
    "america": "United States",
    "american": "United States",
    "americans": "United States",
    "united states of america": "United States",
    "the united states": "United States",
    "uk": "United Kingdom",
    "u.k.": "United Kingdom",
    "britain": "United Kingdom",
    "great britain": "United Kingdom",
    "british": "United Kingdom",
    "england": "United Kingdom",
    "english": "United Kingdom",
    "scotland": "United Kingdom",
    "scottish": "United Kingdom",
    "wales": "United Kingdom",
    "welsh": "United Kingdom",
    "the united kingdom": "United Kingdom",
    "north korean": "North Korea",
    "dprk": "North Korea",
    "pyongyang": "North Korea",
    "south korean": "South Korea",
    "korean": "South Korea",
    "republic of korea": "South Korea",
    "korea": "South Korea",
    "chinese": "China",
    "prc": "China",
    "beijing": "China",
    "russian": "Russia",
    "russian federation": "Russia",
    "kremlin": "Russia",
    "french": "France",
    "german": "Germany",
    "italian": "Italy",
    "spanish": "Spain",
    "portuguese": "Portugal",
    "dutch": "The Netherlands",
    "netherlands": "The Netherlands",
    "the netherlands": "The Netherlands",
    "holland": "The Netherlands",
    "belgian": "Belgium",
    "luxembourgish": "Luxembourg",
    "luxembourger": "Luxembourg",
    "swiss": "Switzerland",
    "austrian": "Austria",
    "irish": "Ireland",
    "danish": "Denmark",
    "swedish": "Sweden",
    "norwegian": "Norway",
    "finnish": "Finland",
    "icelandic": "Iceland",
    "polish": "Poland",
    "czech": "Czechia",
    "czech republic": "Czechia",
    "slovak": "Slovakia",
    "hungarian": "Hungary",
    "romanian": "Romania",
    "bulgarian": "Bulgaria",
    "greek": "Greece",
    "cypriot": "Cyprus",
    "maltese": "Malta",
    "croatian": "Croatia",
    "serbian": "Serbia",
    "slovenian": "Slovenia",
    "bosnian": "Bosnia and Herzegovina",
    "albanian": "Albania",
    "macedonian": "North Macedonia",
    "estonian": "Estonia",
    "latvian": "Latvia",
    "lithuanian": "Lithuania",
    "ukrainian": "Ukraine",
    "belarusian": "Belarus",
    "georgian": "Georgia",
    "armenian": "Armenia",
    "azerbaijani": "Azerbaijan",
    "turkish": "Turkey",
    "turkiye": "Turkey",
    "türkiye": "Turkey",
    "israeli": "Israel",
    "palestinian": "Palestinian Territory",
    "palestine": "Palestinian Territory",
    "egyptian": "Egypt",
    "saudi": "Saudi Arabia",
    "saudi arabian": "Saudi Arabia",
    "emirati": "United Arab Emirates",
    "uae": "United Arab Emirates",
    "qatari": "Qatar",
    "kuwaiti": "Kuwait",
    "bahraini": "Bahrain",
    "omani": "Oman",
    "yemeni": "Yemen",
    "jordanian": "Jordan",
    "lebanese": "Lebanon",
    "syrian": "Syria",
    "iraqi": "Iraq",
    "iranian": "Iran",
    "afghan": "Afghanistan",
    "pakistani": "Pakistan",
    "indian": "India",
    "bangladeshi": "Bangladesh",
    "sri lankan": "Sri Lanka",
    "nepalese": "Nepal",
    "nepali": "Nepal",
    "japanese": "Japan",
    "taiwanese": "Taiwan",
    "mongolian": "Mongolia",
    "vietnamese": "Vietnam",
    "viet nam": "Vietnam",
    "thai": "Thailand",
    "cambodian": "Cambodia",
    "laotian": "Laos",
    "burmese": "Myanmar",
    "burma": "Myanmar",
    "malaysian": "Malaysia",
    "singaporean": "Singapore",
    "indonesian": "Indonesia",
    "filipino": "Philippines",
    "philippine": "Philippines",
    "the philippines": "Philippines",
    "australian": "Australia",
    "new zealander": "New Zealand",
    "canadian": "Canada",
    "mexican": "Mexico",
    "cuban": "Cuba",
    "brazilian": "Brazil",
    "argentine": "Argentina",
    "argentinian": "Argentina",
    "chilean": "Chile",
    "colombian": "Colombia",
    "peruvian": "Peru",
    "venezuelan": "Venezuela",
    "bolivian": "Bolivia",
    "ecuadorian": "Ecuador",
    "uruguayan": "Uruguay",
    "paraguayan": "Paraguay",
    "south african": "South Africa",
    "nigerian": "Nigeria",
    "kenyan": "Kenya",
    "ethiopian": "Ethiopia",
    "ghanaian": "Ghana",
    "rwandan": "Rwanda",
    "ugandan": "Uganda",
    "tanzanian": "Tanzania",
    "zimbabwean": "Zimbabwe",
    "sudanese": "Sudan",
    "libyan": "Libya",
    "tunisian": "Tunisia",
    "algerian": "Algeria",
    "moroccan": "Morocco",
    "senegalese": "Senegal",
    "congolese": "Democratic Republic of the Congo",
    "angolan": "Angola",
    "mozambican": "Mozambique",
    "zambian": "Zambia",
    "somali": "Somalia",
    "eritrean": "Eritrea",
    "kazakh": "Kazakhstan",
    "uzbek": "Uzbekistan",
    "vatican": "Vatican",
    "holy see": "Vatican",
}

# Regional bodies whose leaders meet; they stand in for a country when nothing better is given.
BLOCS: dict[str, str] = {
    "eu": "European Union",
    "european union": "European Union",
    "european": "European Union",
    "european council": "European Union",
    "european commission": "European Union",
}

# Leading lines that are page furniture rather than a headline.
CHROME_LINE = re.compile(
    r"^(back to top|skip to (main )?content|menu|home|share|advertisement|close|search|"
    r"log ?in|sign ?in|subscribe|print|email|cookies?.*|accept.*|jump to.*|top)$",
    re.IGNORECASE,
)


DATA = Path(__file__).with_name("data")
COUNTRIES = DATA / "countries.tsv"
CITIES = DATA / "cities.tsv.gz"


class _Gazetteer:
    """Sorted ``key<TAB>city<TAB>code<TAB>weight`` lines (scripts/prune_geonames.py), searched.

    The lines stay in one bytes object with an array of line starts (~12 MB in all): a dict of
    the same 335,000 names costs ~60 MB in ~1 million Python objects, in every bot process.
    """

    def __init__(self, text: bytes) -> None:
        self._text = text
        self._starts = array("I", [0])
        self._starts.extend(match.end() for match in re.finditer(b"\n", text))
        self._starts.pop()

    def __len__(self) -> int:
        return len(self._starts)

    def __getitem__(self, index: int) -> bytes:
        start = self._starts[index]
        return self._text[start : self._text.index(b"\t", start)]

    def get(self, key: str) -> tuple[str, str, int] | None:
        """``(city, country code, weight)`` for a normalised name, or None."""
        wanted = key.encode("utf-8")
        index = bisect.bisect_left(self, wanted)
        if index == len(self) or self[index] != wanted:
            return None
        start = self._starts[index]
        line = self._text[start : self._text.index(b"\n", start)]
        _, name, code, weight = line.decode("utf-8").split("\t")
        return name, code, int(weight)


@functools.cache
def _cities() -> _Gazetteer:
    return _Gazetteer(gzip.decompress(CITIES.read_bytes()))


@functools.cache
def _country_by_code() -> dict[str, str]:
    rows = COUNTRIES.read_text(encoding="utf-8").splitlines()
    return dict(row.split("\t") for row in rows)


@functools.cache
def _country_names() -> dict[str, str]:
    names = {name.lower(): name for name in _country_by_code().values()}
    names.update(COUNTRY_ALIASES)
    return names


def country_of(text: str) -> str | None:
    """The canonical country name a place, demonym or short form stands for, if any."""
    key = norm_name(text)
    if key.startswith("the ") and key not in _country_names():
        key = key[4:]
    return _country_names().get(key)


def warm() -> None:
    """Load the offline gazetteers now rather than on the first article."""
    _cities()
    _country_names()


@functools.lru_cache(maxsize=8192)
def _city(key: str) -> tuple[str, str, int] | None:
    # A binary search costs ~10 us; an article asks about the same few names many times.
    return _cities().get(key)


def city_of(text: str) -> tuple[str, str] | None:
    """``(city, country)`` for a city name, the most populous match, offline (GeoNames)."""
    found = _city(norm_name(text))
    if found is None:
        return None
    name, code, _ = found
    country = _country_by_code().get(code)
    return (name, country) if country else None


def city_population(text: str) -> int:
    """Population weight of the best city match (0 when unknown); small towns are doubtful."""
    found = _city(norm_name(text))
    return found[2] if found else 0


def norm_name(text: str) -> str:
    """The lookup key of a place name: curly apostrophes, edge punctuation, case and spaces."""
    return " ".join(text.replace("\u2019", "'").strip().strip(".,;:'\"").lower().split())
