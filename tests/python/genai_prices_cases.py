"""Prices a set of calls with genai-prices (PyPI, Decimal arithmetic) for every text model of the
providers the agent's differential test covers; prints one JSON object per call, with the
query the agent is to answer (the model and provider as a span names them).

For each model: plain, cache read, 5-minute and 1-hour cache writes, web searches, batch, just
above each prompt-size tier (with cache reads in it), at several dates (each date the model's
prices change on, the day before, and three fixed dates) and, for models priced by the hour, at
several times of day; and plain and cache-read calls through other routes to the same model:
Azure's fallback to OpenAI and Anthropic, the API host instead of a provider name, LiteLLM's
`provider/model` names and compact dates (`-20250929`). A model is left out (and counted on stderr) when it has a price the agent
does not model (audio, images, characters…), as its text tokens would be compared against
a price set the agent only partly reads.
"""
import datetime
import json
import re
import sys

from genai_prices import Usage, calc_price
from genai_prices.data import providers

PROVIDERS = ["anthropic", "openai", "google", "aws", "azure", "mistral", "deepseek", "x-ai",
             "perplexity"]
SUPPORTED = {"input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok",
             "cache_write_1h_mtok", "web_searches_kcount", "requests_kcount"}
FIXED_DATES = [datetime.date(2025, 6, 1), datetime.date(2026, 4, 1), datetime.date(2026, 11, 1)]
TIMES = [datetime.time(3, 0), datetime.time(12, 0), datetime.time(17, 0)]


def price_sets(model):
    prices = model.prices if isinstance(model.prices, list) else [model.prices]
    for price in prices:
        yield getattr(price, "prices", price), getattr(price, "constraint", None)
    for variant in model.price_variants or []:
        yield variant.prices, getattr(variant, "constraint", None)


def keys(price):
    return {k for k, v in price.__dict__.items() if not k.startswith("_") and v is not None}


def tier_starts(price):
    starts = set()
    for key in keys(price):
        value = getattr(price, key)
        for tier in getattr(value, "tiers", None) or []:
            starts.add(int(tier.start))
    return starts


def moments(model):
    dates = set(FIXED_DATES)
    daily = False
    for _, constraint in price_sets(model):
        start = getattr(constraint, "start_date", None)
        if start is not None:
            dates |= {start, start - datetime.timedelta(days=1)}
        if getattr(constraint, "start_time", None) is not None:
            daily = True
    times = TIMES if daily else [datetime.time(12, 0)]
    return [datetime.datetime.combine(d, t, tzinfo=datetime.timezone.utc)
            for d in sorted(dates) for t in times]


def usages(starts):
    yield "plain", dict(input_tokens=10_000, output_tokens=2_000)
    yield "cache_read", dict(input_tokens=50_000, cache_read_tokens=30_000, output_tokens=1_000)
    yield "cache_write_5m", dict(input_tokens=20_000, cache_write_tokens=12_000, output_tokens=500)
    yield "cache_write_1h", dict(input_tokens=20_000, cache_write_tokens=12_000,
                                 cache_write_1h_tokens=8_000, cache_read_tokens=3_000, output_tokens=500)
    yield "web_searches", dict(input_tokens=5_000, output_tokens=700, web_searches=3)
    for start in sorted(starts):
        yield f"above_{start}", dict(input_tokens=start + 1, cache_read_tokens=start // 4,
                                     cache_write_tokens=1_000, output_tokens=3_000)
        yield f"at_{start}", dict(input_tokens=start, output_tokens=3_000)


# The provider as an instrumentation names it, for the agent (genai-prices takes its own id).
SPAN_PROVIDER = {"anthropic": "anthropic", "openai": "openai", "google": "gcp.gemini", "aws": "aws.bedrock",
                 "azure": "azure.ai.openai", "mistral": "mistral_ai", "deepseek": "deepseek", "x-ai": "x_ai",
                 "perplexity": "perplexity"}
API_HOST = {"anthropic": "api.anthropic.com", "openai": "api.openai.com", "mistral": "api.mistral.ai",
            "deepseek": "api.deepseek.com", "x-ai": "api.x.ai", "perplexity": "api.perplexity.ai"}
LITELLM_PREFIX = {"anthropic": "anthropic", "openai": "openai", "x-ai": "xai", "mistral": "mistral"}
ROUTE_MOMENT = datetime.datetime(2026, 11, 1, 12, 0, tzinfo=datetime.timezone.utc)


def priced(case, usage, ref, context, **where):
    try:
        result = calc_price(Usage(**usage), ref, genai_request_timestamp=datetime.datetime.fromisoformat(
            case["at"].replace("Z", "+00:00")), price_context=context, **where)
    except (LookupError, ValueError) as error:
        case["error"] = str(error)
    else:
        case["priced_as"] = f"{result.provider.id}/{result.model.id}"
        case["input_price"] = str(result.input_price)
        case["output_price"] = str(result.output_price)
        case["total_price"] = str(result.total_price)
    print(json.dumps(case))


def routes(provider, model):
    """Other ways a span names the same call: (route, query for the agent, genai-prices' where,
    reference)."""
    if provider.id == "openai" or provider.id == "anthropic":
        # Azure serves OpenAI's and Anthropic's models through its fallback list.
        yield "azure_fallback", {"model": model.id, "provider": "azure.ai.openai"}, {"provider_id": "azure"}, model.id
    if provider.id in API_HOST:
        host = API_HOST[provider.id]
        yield "server_address", {"model": model.id, "server_address": host}, \
            {"provider_api_url": f"https://{host}/v1"}, model.id
    if provider.id in LITELLM_PREFIX:
        ref = f"{LITELLM_PREFIX[provider.id]}/{model.id}"
        yield "litellm", {"model": ref, "provider": "litellm"}, {"provider_id": "litellm"}, ref
    compact = re.sub(r"-(20\d\d)-(\d\d)-(\d\d)(?=-|:|$)", r"-\1\2\3", model.id)
    if compact != model.id:
        yield "compact_date", {"model": compact, "provider": SPAN_PROVIDER[provider.id]}, \
            {"provider_id": provider.id}, compact


def main():
    compared = skipped = 0
    for provider in providers:
        if provider.id not in PROVIDERS:
            continue
        for model in provider.models:
            sets = list(price_sets(model))
            if not keys(sets[0][0]) or any(keys(price) - SUPPORTED for price, _ in sets):
                skipped += 1
                continue
            compared += 1
            starts = set().union(*(tier_starts(price) for price, _ in sets))
            query = {"model": model.id, "provider": SPAN_PROVIDER[provider.id]}
            for moment in moments(model):
                for name, usage in usages(starts):
                    for batch in (False, True):
                        context = {"processing": "batch"} if batch else None
                        case = {"provider": provider.id, "model": model.id, "case": name, "query": query,
                                "at": moment.isoformat().replace("+00:00", "Z"), "batch": batch,
                                "usage": usage}
                        priced(case, usage, model.id, context, provider_id=provider.id)
            for route, route_query, where, ref in routes(provider, model):
                for name, usage in list(usages(starts))[:2]:
                    for batch in (False, True):
                        context = {"processing": "batch"} if batch else None
                        case = {"provider": provider.id, "model": model.id, "case": f"{route}:{name}",
                                "query": route_query, "at": ROUTE_MOMENT.isoformat().replace("+00:00", "Z"),
                                "batch": batch, "usage": usage}
                        priced(case, usage, ref, context, **where)
    print(f"models compared: {compared}, left out: {skipped}", file=sys.stderr)


main()
