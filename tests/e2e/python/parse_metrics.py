"""Parses a Prometheus text exposition with prometheus_client's own parser.

Usage: parse_metrics.py FILE

Prints one line per sample, `name{label="value",...}<TAB>value`, labels in
name order, so that a test can look samples up without a parser of its own.
Exits 1 (naming the problem) if the parser rejects the text, if a sample
appears twice, or if a family has no TYPE the format knows.
"""
import sys

from prometheus_client.parser import text_string_to_metric_families


def main():
    if len(sys.argv) != 2:
        print("usage: parse_metrics.py FILE", file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        text = f.read()
    seen = set()
    try:
        for family in text_string_to_metric_families(text):
            if family.type not in ("counter", "gauge", "histogram"):
                print(f"FAIL: family {family.name} has type {family.type}",
                      file=sys.stderr)
                return 1
            for sample in family.samples:
                labels = ",".join(
                    f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
                key = f"{sample.name}{{{labels}}}"
                if key in seen:
                    print(f"FAIL: sample {key} twice", file=sys.stderr)
                    return 1
                seen.add(key)
                print(f"{key}\t{sample.value!r}")
    except ValueError as e:
        print(f"FAIL: the parser rejected the exposition: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
