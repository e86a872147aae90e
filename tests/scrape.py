"""Reading a /metrics scrape back, with prometheus-client's own parser."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families


@dataclass(frozen=True)
class Scrape:
    """One scrape: its text, its samples by (name, labels), and the names it holds."""

    text: str
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float]
    names: frozenset[str]

    def value(self, name: str, **labels: str) -> float:
        """The sample ``name{labels}`` (exactly those labels); 0 when absent."""
        return self.samples.get((name, frozenset(labels.items())), 0.0)

    def series(self, name: str) -> dict[frozenset[tuple[str, str]], float]:
        """Every sample named ``name``, by its labels."""
        return {labels: value for (sample, labels), value in self.samples.items()
                if sample == name}


def parse(text: str) -> Scrape:
    """Parse the text format; the names are the families' and every sample's."""
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    names: set[str] = set()
    for family in text_string_to_metric_families(text):
        names.add(family.name)
        for sample in family.samples:
            names.add(sample.name)
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return Scrape(text, samples, frozenset(names))
