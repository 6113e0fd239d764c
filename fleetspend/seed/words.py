"""Small word lists the seed builds human-looking names from (teams, apps, people)."""

from __future__ import annotations

TEAM_NAMES = (
    "Platform", "Payments", "Search", "Growth", "Data", "Mobile", "Infrastructure",
    "Checkout", "Identity", "Machine Learning", "Media", "Support Tools", "Analytics", "Edge",
    "Billing", "Routing", "Notifications", "Security",
)

APP_PREFIXES = (
    "atlas", "beacon", "cobalt", "delta", "ember", "falcon", "garnet", "harbor", "iris",
    "juniper", "kestrel", "lumen", "meadow", "nimbus", "onyx", "pioneer", "quartz", "raven",
    "sierra", "tundra", "umber", "vertex", "willow", "xenon", "yarrow", "zephyr", "orbit",
    "copper", "summit", "cedar",
)

# App roles; the stateful ones keep volumes, the interactive ones may sleep at night.
APP_ROLES = (
    "api", "web", "worker", "cron", "db", "cache", "queue", "gateway", "ingest", "render",
    "search", "auth", "admin", "stream", "scheduler", "proxy",
)
STATEFUL_ROLES = ("db", "queue", "search", "stream")
NEVER_SLEEPING_ROLES = ("db", "cache", "queue", "gateway", "auth", "proxy")

FIRST_NAMES = (
    "Ada", "Bruno", "Chen", "Dalia", "Emeka", "Freya", "Goran", "Hana", "Ines", "Jonas",
    "Kavya", "Liam", "Mei", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sipho", "Tariq",
    "Uma", "Viktor", "Wen", "Ximena", "Yusuf", "Zara",
)
LAST_NAMES = (
    "Adeyemi", "Berg", "Costa", "Dubois", "Eriksson", "Fischer", "Garcia", "Haddad", "Ito",
    "Jensen", "Kowalski", "Lopez", "Mbeki", "Nakamura", "Okafor", "Patel", "Quispe", "Rossi",
    "Silva", "Tanaka", "Usman", "Varga", "Wong", "Yilmaz", "Zhou",
)
