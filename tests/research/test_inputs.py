"""The research input is validated before anything runs: a person can act on every error."""

import pytest
from pydantic import ValidationError

from common.agents.research import REDDIT_RESEARCH, ResearchInput


def valid(**changes):
    return {"topic": "rate limits", "subreddits": ["Python"], **changes}


@pytest.mark.parametrize(
    "name", ["ab", "r/", "has space", "x" * 22, "_leading", "bad-dash", "", "r/ab", "py/thon"]
)
def test_a_name_that_is_not_a_subreddit_is_rejected(name):
    with pytest.raises(ValidationError, match="not a subreddit name"):
        ResearchInput.model_validate(valid(subreddits=[name]))


@pytest.mark.parametrize("count", [0, 11])
def test_between_one_and_ten_subreddits_are_accepted(count):
    with pytest.raises(ValidationError, match="subreddits"):
        ResearchInput.model_validate(valid(subreddits=[f"sub{i:03}" for i in range(count)]))


def test_the_r_prefix_is_stripped_and_repeats_are_dropped():
    data = ResearchInput.model_validate(
        valid(subreddits=["r/Python", "LocalLLaMA", "R/python", " devops "])
    )
    assert data.subreddits == ["Python", "LocalLLaMA", "devops"]


def test_defaults_are_five_findings_over_a_year():
    data = ResearchInput.model_validate(valid())
    assert (data.min_findings, data.time_filter, data.behavior) == (5, "year", None)


@pytest.mark.parametrize(
    "changes",
    [
        {"topic": ""},
        {"topic": "x" * 501},
        {"min_findings": 0},
        {"min_findings": 21},
        {"time_filter": "hour"},
        {"behavior": "x" * 2001},
        {"unknown_field": 1},
    ],
)
def test_out_of_range_fields_are_rejected(changes):
    with pytest.raises(ValidationError):
        ResearchInput.model_validate(valid(**changes))


def test_the_spec_validates_with_the_same_model():
    assert REDDIT_RESEARCH.input_model is ResearchInput
    schema = REDDIT_RESEARCH.input_schema()
    assert schema["properties"]["subreddits"]["maxItems"] == 10
