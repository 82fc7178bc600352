"""`make demo`: a full tour of segport against the built-in Brevo sandbox."""

from __future__ import annotations


def main() -> None:
    print("segport demo: not assembled yet")


if __name__ == "__main__":
    main()
