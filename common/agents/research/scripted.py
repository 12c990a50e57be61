"""The offline brain of `reddit_research`: a deterministic policy that researches like a model.

`research_policy(messages)` reads the task from the first human message and everything else
from the tool results in the conversation (never from hidden state), so it is a pure function
of the messages: the in-process `ScriptedChatModel` and the fake HTTP provider can both serve it,
and a resumed run sees exactly the answers the failed run would have seen. Its plan:

1. one turn of parallel `search_subreddit` calls, one per subreddit;
2. a second, broader turn (`sort="top"`) only if fewer relevant posts than needed turned up;
3. `read_post` for the most relevant posts, four per turn;
4. `ResearchReport` with one finding per post read.

A task whose `behavior` contains `FABRICATE_MARKER` also reports one invented post, which the
agent must drop and count.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from common.agents.research.models import REPORT_TOOL
from common.agents.research.prompt import parse_task
from common.agents.research.tools import READ_TOOL, SEARCH_TOOL
from common.agents.research.transcript import SeenPost, Transcript, read_transcript
from common.reddit.corpus import terms

FABRICATE_MARKER = "scripted:fabricate-source"
FABRICATED_ID = "0fab1ed"
READS_PER_TURN = 4
MAX_READS = 24  # enough for min_findings=20 with a little choice
_GENERIC = frozenset(
    ["teams", "team", "people", "handle", "use", "using", "good", "practice", "practices"]
)
_SUBSTANTIAL = 45  # characters: shorter sentences are greetings, sign-offs and "+1"s
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9+#]*(?:\.[A-Za-z0-9+#]+)*")


def research_policy(messages: Sequence[BaseMessage]) -> AIMessage:
    """The next assistant message of a research conversation. Pure and deterministic."""
    task = _task(messages)
    if task is None:
        return AIMessage(content="I can only research a task given as a JSON block.")
    transcript = read_transcript(messages)
    wanted = _keywords(task["topic"])
    needed = int(task.get("min_findings", 5))
    ranked = _ranked(transcript, wanted)
    if not transcript.searches:
        return _search_turn(task, _query(wanted, 4), "relevance")
    if _search_turns(messages) == 1 and len(ranked) < needed:
        return _search_turn(task, _query(wanted, 2), "top")
    requested = _requested_reads(messages)
    to_read = [p.id for p in ranked[: min(needed + 2, MAX_READS)] if p.id not in requested]
    if to_read:
        return _read_turn(to_read[:READS_PER_TURN])
    return _report_turn(task, transcript, wanted)


def _task(messages: Sequence[BaseMessage]) -> dict[str, Any] | None:
    for message in messages:
        if isinstance(message, HumanMessage):
            task = parse_task(message.text)
            if task and task.get("topic") and task.get("subreddits"):
                return task
            return None
    return None


def _keywords(topic: str) -> list[str]:
    """Topic words worth searching for, in the topic's order, without duplicates."""
    words: list[str] = []
    covered: set[str] = set()
    for word in _WORD.findall(topic):
        stems = terms(word)
        if not stems or word.lower() in _GENERIC or stems <= covered:
            continue
        covered |= stems
        words.append(word)
    return words


def _query(keywords: list[str], size: int) -> str:
    return " ".join(keywords[:size])


def _relevance(post: SeenPost, wanted: set[str]) -> float:
    if not wanted:
        return 0.0
    hits = 2 * len(wanted & terms(post.title)) + len(wanted & terms(post.excerpt))
    return min(1.0, hits / (2 * len(wanted)))


def _ranked(transcript: Transcript, keywords: list[str]) -> list[SeenPost]:
    wanted = terms(" ".join(keywords))
    scored = [(p, _relevance(p, wanted)) for p in transcript.seen.values()]
    relevant = [(p, r) for p, r in scored if r > 0]
    return [p for p, _ in sorted(relevant, key=lambda pr: (-pr[1], -pr[0].score, pr[0].id))]


def _search_turns(messages: Sequence[BaseMessage]) -> int:
    return sum(
        1
        for m in messages
        if isinstance(m, AIMessage) and any(c["name"] == SEARCH_TOOL for c in m.tool_calls)
    )


def _requested_reads(messages: Sequence[BaseMessage]) -> set[str]:
    # Posts already asked for, found or not: a missing post is not asked for again.
    return {
        str(c["args"].get("post_id"))
        for m in messages
        if isinstance(m, AIMessage)
        for c in m.tool_calls
        if c["name"] == READ_TOOL
    }


def _call(name: str, args: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "args": args, "id": None, "type": "tool_call"}


def _search_turn(task: dict[str, Any], query: str, sort: str) -> AIMessage:
    subreddits = list(task["subreddits"])
    calls = [
        _call(
            SEARCH_TOOL,
            {
                "subreddit": name,
                "query": query,
                "sort": sort,
                "time_filter": task.get("time_filter", "year"),
                "limit": 10,
            },
        )
        for name in subreddits
    ]
    where = ", ".join(f"r/{name}" for name in subreddits)
    return AIMessage(content=f"Searching {where} for '{query}' ({sort}).", tool_calls=calls)


def _read_turn(post_ids: list[str]) -> AIMessage:
    calls = [_call(READ_TOOL, {"post_id": post_id}) for post_id in post_ids]
    return AIMessage(content=f"Reading {len(post_ids)} promising posts.", tool_calls=calls)


def _sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE.split(" ".join(text.split())) if s]


def _clip(sentence: str, limit: int) -> str:
    return sentence if len(sentence) <= limit else sentence[: limit - 1] + "…"


def _best_sentence(text: str, wanted: set[str], limit: int = 240) -> str:
    """The sentence saying most about the topic; greetings and sign-offs say nothing."""
    candidates = [s for s in _sentences(text) if len(s) >= _SUBSTANTIAL]
    if not candidates:
        return ""
    best = max(candidates, key=lambda s: (len(wanted & terms(s)), -candidates.index(s)))
    return _clip(best, limit)


def _advice(comments: list[dict[str, Any]], about: set[str], wanted: set[str]) -> list[str]:
    """Up to three comments that give advice, most on-topic and most upvoted first. A comment
    that shares no word with the post or the topic ("Following!", "Saved.") advises nothing."""
    useful = [
        c
        for c in comments
        if len(str(c.get("body", ""))) >= _SUBSTANTIAL and terms(c["body"]) & (about | wanted)
    ]
    useful.sort(key=lambda c: (-len(wanted & terms(c["body"])), -int(c.get("score", 0))))
    return [_clip(_sentences(c["body"])[0], 200) for c in useful[:3]]


def _finding(detail: dict[str, Any], relevance: float, wanted: set[str]) -> dict[str, Any]:
    comments = [c for c in detail.get("top_comments", []) if c.get("body")]
    summary = _best_sentence(str(detail.get("selftext", "")), wanted) or str(detail["title"])
    about = terms(f"{detail['title']} {detail.get('selftext', '')}")
    advice = _advice(comments, about, wanted)
    if advice:
        summary += f" Commenters add: {advice[0]}"
    return {
        "source_id": detail["id"],
        "subreddit": detail["subreddit"],
        "title": detail["title"],
        "url": detail["url"],
        "summary": summary,
        "action_items": advice,
        "relevance_score": round(relevance, 2),
    }


def _fabricated(task: dict[str, Any]) -> dict[str, Any]:
    subreddit = task["subreddits"][0]
    return {
        "source_id": FABRICATED_ID,
        "subreddit": subreddit,
        "title": "A thread that nobody ever posted",
        "url": f"https://www.reddit.com/r/{subreddit}/comments/{FABRICATED_ID}/invented/",
        "summary": "Invented to test that the agent drops findings without a real source.",
        "action_items": [],
        "relevance_score": 0.9,
    }


def _report_turn(task: dict[str, Any], transcript: Transcript, keywords: list[str]) -> AIMessage:
    wanted = terms(" ".join(keywords))
    findings = [
        _finding(transcript.details[post_id], _relevance(transcript.seen[post_id], wanted), wanted)
        for post_id in transcript.reads
    ]
    findings.sort(key=lambda f: (-f["relevance_score"], f["source_id"]))
    needed = int(task.get("min_findings", 5))
    coverage = min(1.0, len(findings) / needed)
    mean = sum(f["relevance_score"] for f in findings) / len(findings) if findings else 0.0
    if FABRICATE_MARKER in (task.get("behavior") or ""):
        findings.append(_fabricated(task))
    report = {"findings": findings, "confidence": round(coverage * (0.5 + 0.5 * mean), 2)}
    return AIMessage(
        content=f"Reporting {len(findings)} findings.", tool_calls=[_call(REPORT_TOOL, report)]
    )
