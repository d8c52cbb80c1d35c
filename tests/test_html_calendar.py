"""``scheduler timeline --format html``: one self-contained, escaped calendar page."""

from __future__ import annotations

import html
import itertools
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from scheduler.views import html as html_view
from tests.test_timeline import (
    SMALL,
    SMALL_DUES,
    STATE_NOW,
    bundled,
    json_ids,
    ok,
    run,
    small,
    with_state,
    write_files,
)

__all__ = ["bundled", "small", "with_state"]  # fixtures shared with the timeline tests

VOID = {
    "meta",
    "input",
    "br",
    "img",
    "hr",
    "link",
    "col",
    "wbr",
    "source",
    "area",
    "base",
    "embed",
    "track",
}


class Page(HTMLParser):
    """A strict reading of a page: balanced elements, and what a browser would load or run."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self.text: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, (tag, self.stack[-5:])
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1] == "script":
            self.scripts.append(data)
        else:
            self.text.append(data)

    def attrs(self, tag: str, name: str) -> list[str]:
        """Every value of attribute ``name`` on ``tag`` elements."""
        return [attrs[name] or "" for t, attrs in self.tags if t == tag and name in attrs]

    def with_attr(self, name: str) -> list[dict[str, str | None]]:
        """The attributes of every element carrying ``name``."""
        return [attrs for _, attrs in self.tags if name in attrs]


def page_of(text: str) -> Page:
    """``text`` parsed; every element closed."""
    parsed = Page(text)
    assert parsed.stack == [], parsed.stack
    return parsed


def test_page_is_self_contained(small: Path) -> None:
    text = ok(run(small, "--format", "html"))
    assert text.startswith("<!DOCTYPE html>\n")
    page = page_of(text)
    assert [tag for tag, _ in page.tags].count("script") == 1
    assert [tag for tag, _ in page.tags].count("style") == 1
    assert page.with_attr("src") == []
    assert not any(tag == "link" for tag, _ in page.tags)
    assert "@import" not in text and "url(" not in text and "//" not in "".join(page.scripts)
    assert page.attrs("a", "href") == []  # links only to private urls, and only with the flag


def test_every_publication_is_in_the_month_grid_and_the_agenda(small: Path) -> None:
    page = page_of(ok(run(small, "--format", "html")))
    titles = page.attrs("li", "title")
    rows = page.attrs("tr", "title")
    for pub_id in SMALL_DUES:
        assert sum(title.splitlines()[0] == pub_id for title in titles) == 1, pub_id
        assert sum(title.splitlines()[0] == pub_id for title in rows) == 1, pub_id
    assert len(titles) == len(rows) == len(SMALL_DUES)


def test_tooltip_has_zone_local_and_utc_times(small: Path) -> None:
    page = page_of(ok(run(small, "--format", "html")))
    (title,) = [t for t in page.attrs("li", "title") if t.startswith("trailer/yt-main\n")]
    assert title.splitlines() == [
        "trailer/yt-main",
        "trailer: Trailer \"&' one",
        "2030-12-07 01:30 +01:00 (Europe/Paris)",
        "2030-12-06 19:30 -05:00 local on yt-main (youtube)",
        "2030-12-07T00:30:00Z",
        "… pending",
    ]


def test_data_is_escaped(small: Path) -> None:
    text = ok(run(small, "--format", "html", "--include-private"))
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<i>x</i>" not in text
    assert "&quot;&amp;&#x27;" in text  # the "&' of titles and params, in content and attributes
    page = page_of(text)
    assert len(page.scripts) == 1 and "alert" not in page.scripts[0]
    assert "<script>alert(1)</script>" in "".join(page.text)  # shown as text, never run


def test_a_ledger_id_is_escaped_everywhere(with_state: Path) -> None:
    text = ok(run(with_state, "--format", "html", now=STATE_NOW))
    page = page_of(text)
    hostile = "old\"&'<b>|x/ig-fr"
    assert "<b>|x" not in text
    assert html.escape(hostile, quote=True) in text
    assert any(title.startswith(hostile + "\n") for title in page.attrs("li", "title"))
    assert hostile in "".join(page.text)


def test_statuses_show_icon_text_and_class(with_state: Path) -> None:
    page = page_of(ok(run(with_state, "--format", "html", now=STATE_NOW)))
    chips = {
        (attrs.get("title") or "").splitlines()[0]: (attrs.get("class") or "").split()
        for tag, attrs in page.tags
        if tag == "li" and attrs.get("title")
    }
    expected = {
        "teaser/yt-main": "s-completed",
        "teaser/tiktok-fr": "s-failed",
        "teaser/ig-fr": "s-missed",
        "trailer/tiktok-fr": "s-unknown",
        "trailer/ig-fr": "s-cancelled",
        "trailer/yt-main": "s-paused",
        "queue/yt-main/clip-03": "s-pending",
    }
    for pub_id, css in expected.items():
        assert css in chips[pub_id], (pub_id, chips[pub_id])
    body = "".join(page.text)
    for icon_text in (
        "✓ completed",
        "✗ failed",
        "⚠ missed",
        "? unknown",
        "⊘ cancelled",
        "‖ paused",
        "… pending (estimated)",
    ):
        assert icon_text in body, icon_text


def test_private_fields_only_with_the_flag(small: Path) -> None:
    without = ok(run(small, "--format", "html"))
    with_flag = ok(run(small, "--format", "html", "--include-private"))
    assert "cdn.example.com" not in without and "playlist" not in without
    assert ">URL</th>" not in without
    page = page_of(with_flag)
    assert 'https://cdn.example.com/teaser-01.mp4?a=1&b="2"' in page.attrs("a", "href")
    assert all(rel == "noopener noreferrer" for rel in page.attrs("a", "rel"))
    assert "playlist" in with_flag


def test_months_spanned_are_all_drawn(small: Path) -> None:
    text = ok(run(small, "--format", "html"))
    assert re.findall(r"<h2>(\w+ \d{4}) <small>", text) == ["December 2030", "January 2031"]
    one_month = ok(run(small, "--format", "html", "--to", "2030-12-31"))
    assert re.findall(r"<h2>(\w+ \d{4}) <small>", one_month) == ["December 2030"]


def test_a_gap_month_is_drawn_empty(tmp_path: Path) -> None:
    queue = SMALL["schedules/queues/yt-main.yaml"].replace("2031-01-05", "2031-02-05")
    root = write_files(tmp_path / "gap", {**SMALL, "schedules/queues/yt-main.yaml": queue})
    text = ok(run(root, "--format", "html"))
    assert re.findall(r"<h2>(\w+ \d{4}) <small>(\d+)", text) == [
        ("December 2030", "6"),
        ("January 2031", "0"),
        ("February 2031", "1"),
    ]


def test_today_is_marked(small: Path) -> None:
    text = ok(run(small, "--format", "html", now="2030-12-06T12:00:00Z"))
    (today,) = re.findall(r'<td class="([^"]*\btoday\b[^"]*)"><div class="dn">(\d+)</div>', text)
    assert today[1] == "6"


def test_empty_state(small: Path) -> None:
    text = ok(run(small, "--format", "html", "--from", "2040-01-01"))
    page = page_of(text)
    assert "No publications in this range." in "".join(page.text)
    assert page.scripts == []
    assert "<table" not in text


def test_channel_colours_are_stable_and_listed(small: Path) -> None:
    full = ok(run(small, "--format", "html"))
    only = ok(run(small, "--format", "html", "--channel", "yt-main"))

    def hue_of(text: str, channel: str) -> str:
        pattern = rf'<label class="chan c(\d+)"><input [^>]*><span [^>]*></span><span class="name">{channel}</span>'
        (number,) = re.findall(pattern, text)
        (hue,) = re.findall(rf"\.c{number}{{--h:(\d+);", text)
        return hue

    assert hue_of(full, "yt-main") == hue_of(only, "yt-main")
    hues = {hue_of(full, channel) for channel in ("yt-main", "tiktok-fr", "ig-fr")}
    assert len(hues) == 3


def closest_pair(hues: dict[str, int]) -> int:
    """Degrees between the two closest hues around the wheel."""
    values = sorted(hues.values())
    return min([b - a for a, b in itertools.pairwise(values)] + [360 - values[-1] + values[0]])


@pytest.mark.parametrize("count", [2, 3, 7, 12, 20, 30], ids=lambda n: f"{n}-channels")
def test_channel_hues_keep_apart(count: int) -> None:
    channels = [f"channel-{i}" for i in range(count)]
    hues = html_view.channel_hues(channels)
    assert hues == html_view.channel_hues(list(channels))  # deterministic
    assert (
        hues[channels[0]] == round(html_view.hash_hue(channels[0])) % 360
    )  # the first keeps its hash
    wide = min(html_view.MAX_HUE_GAP, 360 / (count + 1))
    assert closest_pair(hues) >= min(wide, 360 / (2 * count)) - 1


def test_bundled_channel_hues_are_well_apart() -> None:
    channels = ["yt-main", "yt-jp", "tiktok-fr", "tiktok-us", "ig-fr", "x-us", "li-corp"]
    assert closest_pair(html_view.channel_hues(channels)) >= 40


def test_bundled_example_page(bundled: Path) -> None:
    ids = json_ids(bundled)
    text = ok(run(bundled, "--format", "html"))
    page = page_of(text)
    titles = [title.splitlines()[0] for title in page.attrs("li", "title")]
    assert sorted(titles) == sorted(ids)
    assert "December 2030" in text
    assert len(page.attrs("input", "data-filter")) == 7


def test_page_written_with_output_option(small: Path, tmp_path: Path) -> None:
    target = tmp_path / "site" / "index.html"
    result = run(small, "--format", "html", "-o", str(target))
    assert ok(result) == ""
    written = target.read_text(encoding="utf-8")
    assert written.endswith("</html>\n")
    assert all(pub_id in written for pub_id in SMALL_DUES)
