"""Writes the price data of the installed genai-prices (PyPI, MIT) as its v2 JSON, the format the
agent reads: `python3 ci/genai_prices_snapshot.py > src/pricing/genai_prices/snapshot.json`.

The PyPI package carries its data as Python (`genai_prices.data`); this prints it in the shape of
genai-prices' published `data.json` (a list of providers), numbers exactly as the package holds
them, without the fields the agent does not read (descriptions, comments, usage extractors).
It then reads its own output back with the package's loader and checks that nothing changed.
"""
import dataclasses
import datetime
import decimal
import json
import sys
from importlib.metadata import version

from genai_prices import types as T
from genai_prices.data import providers

SKIPPED = {"description", "price_comments", "pricing_urls", "extractors", "context_window", "deprecated"}


def enc(o):
    if isinstance(o, decimal.Decimal):
        text = str(o)
        assert "E" not in text.upper(), text
        return text
    if isinstance(o, bool) or o is None:
        return json.dumps(o)
    if isinstance(o, (int, str)):
        return json.dumps(o, ensure_ascii=False)
    if isinstance(o, list):
        return "[" + ",".join(enc(x) for x in o) + "]"
    if isinstance(o, dict):
        return "{" + ",".join(json.dumps(k) + ":" + enc(v) for k, v in o.items() if v is not None) + "}"
    if isinstance(o, datetime.date):
        return json.dumps(o.isoformat())
    if isinstance(o, datetime.time):
        assert o.utcoffset() == datetime.timedelta(0)
        return json.dumps(o.replace(tzinfo=None).isoformat() + "Z")
    if isinstance(o, T.ModelPrice):
        return enc({k: v for k, v in o.__dict__.items() if not k.startswith("_") and v is not None})
    if isinstance(o, T.ClauseOr):
        return enc({"or": o.or_})
    if isinstance(o, T.ClauseAnd):
        return enc({"and": o.and_})
    if dataclasses.is_dataclass(o):
        fields = {f.name: getattr(o, f.name) for f in dataclasses.fields(o)}
        return enc({k: v for k, v in fields.items() if not k.startswith("_") and k not in SKIPPED and v != []})
    raise TypeError(type(o))


def provider_text(provider):
    fields = {f.name: getattr(provider, f.name) for f in dataclasses.fields(provider)}
    head = {k: v for k, v in fields.items() if k not in SKIPPED and k != "models" and not k.startswith("_") and v}
    models = ",\n".join(enc(model) for model in provider.models)
    return enc(head)[:-1] + ',"models":[\n' + models + "]}"


text = "[\n" + ",\n".join(provider_text(p) for p in providers) + "\n]\n"
again = T._providers_from_raw(json.loads(text, parse_float=decimal.Decimal))
for before, after in zip(providers, again, strict=True):
    assert (before.id, before.api_pattern, before.model_match, before.provider_match,
            before.fallback_model_providers) == (after.id, after.api_pattern, after.model_match,
                                                 after.provider_match, after.fallback_model_providers)
    for a, b in zip(before.models, after.models, strict=True):
        assert (a.id, a.match, a.prices, a.price_variants) == (b.id, b.match, b.prices, b.price_variants), a.id
print(f"genai-prices {version('genai-prices')}: {len(again)} providers, "
      f"{sum(len(p.models) for p in again)} models", file=sys.stderr)
sys.stdout.write(text)
