"""Google responsive search ads: the placement, pins from the brief, the pool rules,
draft copy, the Bedrock request and answer, and how the preview and workbook show them."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from adloom.brief.placements import builtin_placements
from adloom.brief.read import read_campaign
from adloom.copy import rsa, textlen
from adloom.copy.lint import CopyContext
from adloom.delivery.export import export_workbook
from adloom.delivery.render import render_preview
from adloom.delivery.workbook import SEARCH_SLOTS
from adloom.model import Brief, CopyJob, Pin, SearchAd
from adloom.providers.bedrock.text import TextOptions, build, parse, required_fields
from adloom.providers.copywriting import search_schema
from adloom.providers.draft import DraftProvider
from adloom.providers.prompts import Prompts
from adloom.registry import load_registry
from adloom.run.plan import make_plan
from briefs import MINIMAL_CAMPAIGN, write_brief
from campaigns import make_campaign
from factories import RSA, make_brief, make_search_ad, make_summary, preview_html
from factories import make_campaign as make_full_campaign

HAIKU45 = "us.anthropic.claude-haiku-4-5-20251001-v1:0"  # native structured output
NOVA_LITE = "amazon.nova-lite-v1:0"  # a forced tool
IMAGE = "stability.stable-image-core-v1:1"  # the registry's default
BRIEF = Brief(
    id="cold-brew",
    product="Cold Brew Kit",
    message="Smooth coffee, zero effort",
    benefits=("Brews overnight", "Half the acidity"),
    cta="Shop now",
    landing_url="https://example.com/cold-brew",
)
PINNED = replace(
    BRIEF,
    headline="Cold brew made easy",
    pins=(
        Pin("headline", 1, "Lumen Cold Brew"),
        Pin("headline", 1, "Lumen Coffee"),
        Pin("description", 2, "Free delivery on every kit."),
    ),
)


def job(brief: Brief = BRIEF, *, language: str = "en", provider: str = "draft") -> CopyJob:
    models = {"text_model": HAIKU45, "image_model": IMAGE} if provider == "bedrock" else {}
    campaign = make_campaign(briefs=[brief], placements=("google_rsa",), languages=(language,),
                             provider=provider, **models)  # fmt: skip
    return make_plan(campaign, load_registry(), provider).copy_jobs[0]


def violations(search: SearchAd, brief: Brief | None = None) -> dict[str, str]:
    context = CopyContext(placements=(RSA,), language="en")
    return {v.field: v.message for v in rsa.check(search, RSA.limits, context, brief=brief)}


def test_the_placement_table_has_google_rsa_with_its_source() -> None:
    p = builtin_placements()["google_rsa"]
    assert (p.text_only, p.platform, p.width_rule) == (True, "google", "double_width")
    assert (p.headline_max, p.body_max, p.cta_max, p.path_max) == (30, 90, 0, 15)
    assert (p.headline_count, p.description_count) == (15, 4)
    assert p.limits.responsive
    assert "7684791" in p.source


def test_one_copy_job_per_brief_audience_language_and_variant() -> None:
    campaign = make_campaign(briefs=[BRIEF], placements=("google_rsa", "display_300x250"),
                             languages=("en", "ja"), variants=2)  # fmt: skip
    plan = make_plan(campaign, load_registry(), "draft")
    search = [j for j in plan.copy_jobs if j.limits.responsive]
    assert len(search) == 4  # 2 languages x 2 variants, apart from the display copy
    assert all(j.placements == ("google_rsa",) for j in search)
    assert not [a for a in plan.ads if a.placement.id == "google_rsa" and a.image_job]


def test_pins_are_read_from_the_brief(tmp_path: Path) -> None:
    brief = {
        "id": "b1",
        "product": "Cold brew",
        "message": "Fast",
        "Pin headline 1": "Lumen Cold Brew\nLumen Coffee",  # two texts take turns there
        "pin_description_2": "Free delivery.",
    }
    path = write_brief(tmp_path / "brief.xlsx", MINIMAL_CAMPAIGN, [brief])
    (read,) = read_campaign(path).briefs
    assert read.pins == (
        Pin("headline", 1, "Lumen Cold Brew"),
        Pin("headline", 1, "Lumen Coffee"),
        Pin("description", 2, "Free delivery."),
    )
    assert not read.extra  # the pin columns are adloom's, not carried-through extras


def test_supplied_copy_leads_the_pools_with_its_pins() -> None:
    answer = {"headlines": ["Written one", " Written two "], "descriptions": ["A.", "B."],
              "path1": "cold-brew", "path2": "kit"}  # fmt: skip
    search = rsa.from_output(job(PINNED), answer)
    assert search.headlines == (
        "Lumen Cold Brew", "Lumen Coffee", "Cold brew made easy", "Written one", "Written two"
    )  # fmt: skip
    assert search.headline_pins == (1, 1, 0, 0, 0)
    assert search.descriptions == ("Free delivery on every kit.", "A.", "B.")
    assert rsa.pins(search) == {"headline 1": 1, "headline 2": 1, "description 1": 2}
    assert rsa.pins_text(search) == "headline 1 → 1; headline 2 → 1; description 1 → 2"
    # As a result shows it: pinned text in its position, the rest in order.
    assert rsa.serving_order(search, "headline") == [
        "Lumen Cold Brew", "Cold brew made easy", "Written one"
    ]  # fmt: skip
    assert rsa.serving_order(search, "description") == ["A.", "Free delivery on every kit."]
    assert rsa.to_write(job(PINNED)) == (12, 3)


def test_slots_round_trip_through_their_labels() -> None:
    search = rsa.from_output(job(PINNED), {"headlines": ["X", "Y"], "descriptions": ["D."]})
    slots = rsa.fields(search)
    assert list(slots)[:2] == ["headline 1", "headline 2"]
    assert slots["path 1"] == ""
    assert rsa.from_fields(slots, rsa.pins(search)) == search
    # A blank slot is left out; a pin stays with its slot whatever its text became.
    edited = {**slots, "headline 2": "", "headline 1": "Hand-written"}
    back = rsa.from_fields(edited, rsa.pins(search))
    assert (back.headlines[0], back.headline_pins[0]) == ("Hand-written", 1)
    assert "Lumen Coffee" not in back.headlines


GOOD = SearchAd(
    headlines=("Cold Brew Kit", "Brews overnight", "Half the acidity"),
    descriptions=("Smooth coffee, zero effort.", "Brews overnight in your fridge."),
    path1="cold-brew",
    path2="kit",
)


def test_a_good_ad_passes() -> None:
    assert violations(GOOD) == {}


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        # Google counts double-width characters as 2: 16 Japanese characters are 32.
        ({"headlines": (*GOOD.headlines, "コールドブリューで毎朝をもっと軽やかに")},
         "headline 4", "over Google's limit of 30"),
        ({"headlines": (*GOOD.headlines, "Ready by morning!")}, "headline 4", '"!"'),
        ({"headlines": (*GOOD.headlines, "Smooth and SIMPLE")}, "headline 4", "capitals"),
        ({"headlines": (*GOOD.headlines, "HALF  the acidity")}, "headline 4", "repeats headline 3"),
        ({"headlines": GOOD.headlines[:2]}, "headlines", "at least 3"),
        ({"headlines": GOOD.headlines * 6}, "headlines", "at most 15"),
        ({"descriptions": GOOD.descriptions[:1]}, "descriptions", "at least 2"),
        ({"descriptions": (*GOOD.descriptions, "x" * 91)}, "description 3", "over"),
        ({"path1": "cold/brew"}, "path 1", '"/"'),
        ({"path2": "コールドブリュー"}, "path 2", "16 width units"),  # 7 double-width is 14
        ({"descriptions": ("Call 555-0199 now.", "Tasty.")}, "description 1", "phone"),
    ],
)  # fmt: skip
def test_each_slot_is_checked_under_its_own_label(
    change: dict[str, Any], field: str, says: str
) -> None:
    found = violations(replace(GOOD, **change))
    assert field in found, found
    assert found[field].startswith(field)
    assert says in found[field]


def test_the_ad_as_a_whole_must_name_the_product() -> None:
    context = CopyContext.for_brief(BRIEF, job().brand, "Lumen", [RSA], "en")
    other = replace(GOOD, headlines=("Morning ritual", "Made for you", "Try it today"),
                    descriptions=("Good things.", "Better days."))  # fmt: skip
    assert [v.rule for v in rsa.check(other, RSA.limits, context)] == ["product"]
    assert rsa.check(GOOD, RSA.limits, context) == []  # "Cold Brew Kit" in any slot will do


def test_supplied_copy_is_flagged_as_supplied_never_sent_back() -> None:
    brief = replace(PINNED, pins=(Pin("headline", 1, "A pinned headline far over thirty chars"),))
    search = rsa.from_output(job(brief), {"headlines": ["Cold Brew Kit", "X" * 31],
                                          "descriptions": ["Smooth.", "Easy."]})  # fmt: skip
    found = {v.field: v for v in rsa.check(search, RSA.limits, brief=brief)}
    assert found["headline 1"].supplied
    assert "supplied copy" in str(found["headline 1"])
    assert not found["headline 4"].supplied


@pytest.mark.parametrize("language", ["en", "ja"])
def test_draft_search_copy_is_distinct_fits_and_leaves_supplied_copy_alone(language: str) -> None:
    the_job = job(PINNED, language=language)
    provider = DraftProvider()
    answer = provider.send(provider.text_request(the_job)).output
    search = rsa.from_output(the_job, answer)
    assert rsa.check(search, the_job.limits, brief=PINNED) == []
    assert len(search.headlines) >= rsa.MIN_HEADLINES + 3  # the supplied three, and more
    assert len(search.descriptions) <= the_job.limits.description_count
    for text in (*search.headlines, *search.descriptions, search.path1, search.path2):
        assert text
        assert text == text.strip()
    assert search.path1 == "Cold-Brew-Kit"
    assert textlen.measure(search.path2, "double_width") <= 15


def test_draft_rework_comes_back_changed() -> None:
    provider = DraftProvider()
    first = provider.text_request(job())
    again = provider.text_request(job(), ["a reviewer rejected this copy: too generic"])
    assert first.key != again.key  # a new request, journalled like any other
    assert "feedback" not in first.body  # other requests keep their journal keys
    assert provider.send(first).output != provider.send(again).output


# ---------------------------------------------------------------- Bedrock


def test_native_schema_states_limits_in_words_only() -> None:
    schema = search_schema(RSA.limits, (13, 3), bounded=False)
    text = json.dumps(schema)
    for keyword in ("maxLength", "maxItems", "minItems"):  # native decoding rejects them
        assert keyword not in text
    assert schema["required"] == ["headlines", "descriptions", "path1", "path2"]
    assert "Exactly 13 headlines" in schema["properties"]["headlines"]["description"]
    assert "30 width units" in schema["properties"]["headlines"]["items"]["description"]


def test_tool_schema_bounds_every_list_and_text() -> None:
    schema = search_schema(RSA.limits, (12, 3), bounded=True)
    headlines = schema["properties"]["headlines"]
    assert (headlines["minItems"], headlines["maxItems"]) == (12, 12)
    assert headlines["items"]["maxLength"] == 30
    assert schema["properties"]["descriptions"]["items"]["maxLength"] == 90
    assert schema["properties"]["path1"]["maxLength"] == 15


@pytest.mark.parametrize(("model", "mode"), [(HAIKU45, "native"), (NOVA_LITE, "tool")])
def test_the_request_asks_for_distinct_pools_around_the_supplied_copy(
    model: str, mode: str
) -> None:
    the_job = replace(job(PINNED, language="ja", provider="bedrock"), model=model)
    registry = load_registry()
    built = build(the_job, ["headline 4 repeats headline 2"], registry.get(model),
                  Prompts(None), TextOptions())  # fmt: skip
    prompt = built.body["messages"][0]["content"][0]["text"]
    assert "responsive search ad" in prompt
    assert '"Lumen Cold Brew" (always shown in position 1)' in prompt
    assert '"Cold brew made easy"' in prompt
    assert "headlines: exactly 12, each at most 30" in prompt
    assert "differ from every other" in prompt
    assert "headline 4 repeats headline 2" in prompt  # the feedback
    assert "Japanese" in prompt
    assert required_fields(built.body) == ("headlines", "descriptions", "path1", "path2")
    # Room for 12 headlines, 3 descriptions and 2 paths, more than a single ad gets.
    assert built.max_tokens > 800


def test_prompt_mode_requires_the_pools() -> None:
    llama = "meta.llama3-3-70b-instruct-v1:0"
    registry = load_registry()
    info = registry.get(llama)
    assert info.structured_output == "prompt"
    the_job = replace(job(provider="bedrock"), model=llama)
    built = build(the_job, [], info, Prompts(None), TextOptions())
    assert required_fields(built.body) == ("headlines", "descriptions")


def converse(answer: dict[str, Any]) -> dict[str, Any]:
    return {
        "output": {"message": {"content": [{"text": json.dumps(answer)}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 10, "outputTokens": 10},
    }


def test_an_answer_with_lists_is_read_and_one_without_is_sent_back() -> None:
    info = load_registry().get(HAIKU45)
    fields = ("headlines", "descriptions", "path1", "path2")
    ok = parse(converse({"headlines": ["A", "B", "C"], "descriptions": ["D.", "E."],
                         "path1": "a", "path2": "b"}),
               mode="native", fields=fields, info=info, max_tokens=100)  # fmt: skip
    assert ok.status == "ok"
    assert ok.output == {"headlines": ["A", "B", "C"], "descriptions": ["D.", "E."],
                         "path1": "a", "path2": "b"}  # fmt: skip
    bad = parse(converse({"headlines": "A, B, C", "descriptions": []}),
                mode="native", fields=fields, info=info, max_tokens=100)  # fmt: skip
    assert bad.status == "failed"
    assert "no headlines or descriptions" in bad.error
    assert "lists of strings" in bad.error
    no_paths = parse(converse({"headlines": ["A", "B", "C"], "descriptions": ["D.", "E."]}),
                     mode="native", fields=fields, info=info, max_tokens=100)  # fmt: skip
    assert (no_paths.status, no_paths.output["path1"]) == ("ok", "")  # paths are optional


# ---------------------------------------------------------------- preview and workbook


def test_the_preview_draws_a_search_result(tmp_path: Path) -> None:
    campaign = make_full_campaign(tmp_path, (make_brief(),))
    search = replace(
        GOOD,
        headlines=("<b>Cold</b> Brew Kit", *GOOD.headlines[1:], "Lumen Cold Brew"),
        headline_pins=(0, 0, 0, 1),
    )
    ad = make_search_ad(campaign, tmp_path / "out", search)
    render_preview([ad], make_summary([ad], tmp_path), campaign, tmp_path)
    html = preview_html(tmp_path)
    assert "search-ad" in html
    assert "shop.example.com/cold-brew/kit" in html  # display URL with the paths
    # The pinned headline leads, as it would in a result; headlines joined with " | ".
    assert "Lumen Cold Brew | &lt;b&gt;Cold&lt;/b&gt; Brew Kit | Brews overnight" in html
    assert "<b>Cold</b>" not in html
    assert "pinned 1" in html
    assert "16/30" in html  # "Half the acidity", measured as Google counts it


def test_the_workbook_has_a_search_ads_sheet(tmp_path: Path) -> None:
    campaign = make_full_campaign(tmp_path, (make_brief(),))
    out = tmp_path / "out"
    search = replace(GOOD, headline_pins=(1,), path2="=kit")
    ad = make_search_ad(campaign, out, search)
    path = export_workbook([ad], make_summary([ad], out), campaign, out)
    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames == ["Variants", "Search ads", "Summary"]
    sheet = workbook["Search ads"]
    header = [c.value for c in sheet[1]]
    assert header == ["ad_name", "brief_id", "audience", "language", "variant", "status",
                      "final_url", *SEARCH_SLOTS, "pins"]  # fmt: skip
    row = dict(zip(header, next(sheet.iter_rows(min_row=2, values_only=True)), strict=True))
    assert [row[f"headline {i}"] for i in (1, 2, 3, 4)] == [*GOOD.headlines, None]
    assert row["description 2"] == GOOD.descriptions[1]
    assert (row["path 1"], row["path 2"], row["pins"]) == ("cold-brew", "=kit", "headline 1 → 1")
    assert sheet.cell(row=2, column=header.index("path 2") + 1).data_type == "s"  # not a formula
    variants = workbook["Variants"]
    vheader = [c.value for c in variants[1]]
    vrow = dict(zip(vheader, next(variants.iter_rows(min_row=2, values_only=True)), strict=True))
    assert (vrow["headline"], vrow["body"], vrow["cta"]) == (
        GOOD.headlines[0], GOOD.descriptions[0], None
    )  # fmt: skip
    assert json.loads(vrow["generated"])["pins"] == {"headline 1": 1}
