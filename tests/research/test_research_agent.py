"""reddit_research end to end, offline: grounded findings, honest metadata, step-level resume."""

from __future__ import annotations

import subprocess
import sys

import pytest
from langchain_core.messages import AIMessage
from langgraph.checkpoint.memory import InMemorySaver

from common.agents.registry import default_registry
from common.agents.research import REDDIT_RESEARCH, ResearchInput, ResearchOutput
from common.agents.research.scripted import FABRICATE_MARKER, FABRICATED_ID, research_policy
from common.checkpoints import thread_config
from common.errors import ConnectionFailed, InvalidAgentOutput, RateLimited
from common.llm import CallCounter, ScriptedChatModel, echo_policy
from common.reddit.corpus import CorpusSource, load_corpus
from tests.research.conftest import CountingSource

TOPIC = ResearchInput(
    topic="How do teams handle LLM API rate limits, retries and costs?",
    subreddits=["startups", "MachineLearning", "Python", "devops"],
    min_findings=5,
)


def scripted(faults=None, counter=None):
    """A chat-model factory like the worker's, with faults planned by call number."""

    def factory(policy):
        return ScriptedChatModel(
            policy=policy, faults=faults or {}, counter=counter or CallCounter()
        )

    return factory


async def research(run, data: ResearchInput = TOPIC) -> ResearchOutput:
    return await REDDIT_RESEARCH.run(data, run.ctx)


async def test_offline_research_succeeds_with_findings_from_posts_the_tools_returned(make_run):
    source = CountingSource()
    run = make_run(reddit=source, chat_model=scripted(), checkpointer=InMemorySaver())

    output = await research(run)

    assert len(output.findings) >= TOPIC.min_findings
    corpus = load_corpus()
    for finding in output.findings:
        assert finding.source_id in source.returned_ids
        post = corpus.posts[finding.source_id].summary()
        assert (finding.url, finding.subreddit, finding.title) == (
            post.url,
            post.subreddit,
            post.title,
        )
        assert 0 <= finding.relevance_score <= 1 and len(finding.action_items) <= 3
    REDDIT_RESEARCH.output_model.model_validate(output.model_dump())


async def test_metadata_counts_the_tool_calls_actually_made(make_run):
    source = CountingSource()
    run = make_run(reddit=source, chat_model=scripted())

    output = await research(run)

    assert output.metadata.searches_made == source.count("search") >= len(TOPIC.subreddits)
    assert output.metadata.posts_read == source.count("get_post") >= TOPIC.min_findings
    assert output.metadata.fabricated_dropped == 0
    assert 0 < output.metadata.confidence <= 1
    assert run.ctx.usage.tool_calls == len(source.calls)
    assert 4 <= run.ctx.usage.llm_calls_ok <= 8
    assert run.ctx.usage.llm_calls_failed == 0
    assert run.ctx.usage.prompt_tokens > 0 and run.ctx.usage.completion_tokens > 0


async def test_every_step_appends_one_progress_event(make_run):
    run = make_run(chat_model=scripted())

    await research(run)

    kinds = [kind for kind, _, _ in run.events]
    assert kinds.count("llm") == run.ctx.usage.llm_calls_ok
    assert kinds.count("tool") == run.ctx.usage.tool_calls
    assert {tool for kind, _, tool in run.events if kind == "tool"} == {
        "search_subreddit",
        "read_post",
    }
    assert all(0 < len(summary) <= 200 for _, summary, _ in run.events)


async def test_a_fabricated_source_is_dropped_and_counted(make_run):
    data = TOPIC.model_copy(update={"behavior": f"Please {FABRICATE_MARKER} for the test."})
    run = make_run(chat_model=scripted())

    output = await research(run, data)

    assert FABRICATED_ID not in {f.source_id for f in output.findings}
    assert output.metadata.fabricated_dropped == 1
    assert len(output.findings) >= data.min_findings


async def test_a_subreddit_that_does_not_exist_is_reported_to_the_model_not_fatal(make_run):
    data = TOPIC.model_copy(update={"subreddits": ["Python", "nosuchsubreddit"], "min_findings": 2})
    run = make_run(chat_model=scripted())

    output = await research(run, data)

    assert output.findings and {f.subreddit for f in output.findings} == {"Python"}
    assert any("not in the offline corpus" in summary for _, summary, _ in run.events)


async def test_the_seed_failure_story_resumes_at_the_failed_step(make_run, saver):
    # A failure-free run of the same research, for comparison.
    clean_source = CountingSource()
    clean = make_run("exec-clean", reddit=clean_source, chat_model=scripted(), checkpointer=saver)
    expected = await research(clean)

    # The provider fails the 3rd LLM call of the execution with 429, Retry-After 2 s.
    counter = CallCounter()
    chat_model = scripted({3: RateLimited("simulated 429", retry_after=2)}, counter)
    source = CountingSource()
    first = make_run("exec-seed", 1, reddit=source, chat_model=chat_model, checkpointer=saver)
    with pytest.raises(RateLimited) as failure:
        await research(first)
    assert failure.value.retry_after == 2
    calls_before_failure = list(source.calls)
    assert calls_before_failure  # the searches and the first reads happened before the 429

    second = make_run("exec-seed", 2, reddit=source, chat_model=chat_model, checkpointer=saver)
    output = await research(second)

    assert output == expected
    ok = first.ctx.usage.llm_calls_ok + second.ctx.usage.llm_calls_ok
    assert ok == clean.ctx.usage.llm_calls_ok
    assert first.ctx.usage.llm_calls_failed + second.ctx.usage.llm_calls_failed == 1
    assert sorted(source.calls) == sorted(clean_source.calls)  # no tool call made twice
    assert source.calls[: len(calls_before_failure)] == calls_before_failure
    assert second.events[0][0] == "llm"  # it resumed with the failed LLM step


async def test_the_scripted_policy_is_a_pure_function_of_the_conversation(make_run):
    saver = InMemorySaver()
    await research(make_run("exec-pure", chat_model=scripted(), checkpointer=saver))
    stored = await saver.aget_tuple(thread_config("exec-pure"))
    messages = stored.checkpoint["channel_values"]["messages"]

    replies = [(i, m) for i, m in enumerate(messages) if isinstance(m, AIMessage)]
    assert len(replies) >= 4
    for i, reply in replies:
        again = research_policy(messages[:i])
        assert again.content == reply.content
        assert [(c["name"], c["args"]) for c in again.tool_calls] == [
            (c["name"], c["args"]) for c in reply.tool_calls
        ]


async def test_a_finished_execution_is_not_run_again(make_run):
    saver, counter = InMemorySaver(), CallCounter()
    first = make_run("exec-done", chat_model=scripted(counter=counter), checkpointer=saver)
    output = await research(first)
    calls = counter.calls

    again = make_run("exec-done", 2, chat_model=scripted(counter=counter), checkpointer=saver)
    assert await research(again) == output
    assert counter.calls == calls and again.events == []


async def test_a_model_that_never_reports_fails_with_invalid_output(make_run):
    run = make_run(chat_model=lambda policy: ScriptedChatModel(policy=echo_policy))
    with pytest.raises(InvalidAgentOutput, match="without calling ResearchReport"):
        await research(run)


async def test_reddit_failures_leave_as_our_error_types(make_run):
    class Broken(CorpusSource):
        async def search(self, *args, **kwargs):
            raise ConnectionResetError("connection reset by peer")

    run = make_run(reddit=Broken(), chat_model=scripted())
    with pytest.raises(ConnectionFailed):
        await research(run)
    assert run.ctx.usage.llm_calls_ok == 1  # the LLM call before the tool is still counted


async def test_it_runs_without_any_worker_resources(make_run):
    output = await research(make_run())
    assert len(output.findings) >= TOPIC.min_findings


def test_reddit_research_is_registered_without_loading_langchain():
    assert default_registry().get("reddit_research") is REDDIT_RESEARCH
    assert REDDIT_RESEARCH.durable  # the worker deletes its checkpoints once it is final
    probe = (
        "import sys, common.agents.registry as r; r.default_registry(); "
        "assert not [m for m in sys.modules if m.startswith(('langchain', 'langgraph'))]"
    )
    subprocess.run([sys.executable, "-c", probe], check=True)
