"""Journal keys survive moving modules: the example campaign's requests hash as before.

``Request.key`` hashes the model and the body, never a module path, so moving the code
into per-stage folders (issue 17) must leave every key as it was, or a rerun of an old
out folder pays again for answers its journal holds. The keys below were computed on
the flat layout, before the move, from the shipped example campaign.
"""

from __future__ import annotations

from pathlib import Path

from adloom.brief.read import read_campaign
from adloom.providers import ProviderConfig
from adloom.providers.bedrock import BedrockProvider
from adloom.providers.draft import DraftProvider
from adloom.registry import load_registry
from adloom.run.plan import make_plan

EXAMPLE = Path(__file__).resolve().parent.parent / "campaigns" / "spring-launch.xlsx"

KEYS = {
    "draft-text": "a64f35cec9c852eee9fc338f32d318ecca680381ac255d1525e2b284645dc76c",
    "draft-image": "7571c0e7403e1d8e0791d280234f5b1e809bc6374409e1baf0a0828e385d9a47",
    "bedrock-text": "9ee6fb1e70cb826e4ee98c3b8b2c3a5a380c7260d67e2f8b59b598a7241f936d",
    "bedrock-image": "648136948a3812fb36d48a544c109591dad56c58aa257a366406dd116c4a599d",
}


def keys() -> dict[str, str]:
    campaign = read_campaign(EXAMPLE)
    registry = load_registry()
    found = {}
    for name, provider in (
        ("draft", DraftProvider()),
        ("bedrock", BedrockProvider(ProviderConfig(registry=registry, region="us-east-1"))),
    ):
        plan = make_plan(campaign, registry, name)
        found[f"{name}-text"] = provider.text_request(plan.copy_jobs[0]).key
        found[f"{name}-image"] = provider.image_request(plan.image_jobs[0]).key
    return found


def test_example_campaign_keys_are_the_ones_journals_hold() -> None:
    assert keys() == KEYS
