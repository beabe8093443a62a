"""The Customers page's helpers: the customers offered in the profile picker and a customer's
scores in one line.

Must not hold anything another page uses (the customer table's columns and configs are in
``ui.tables``, segment names in ``ui.naming``).
"""

from __future__ import annotations

import pandas as pd

from ui import fmt

PICK_ROWS = 1_000  # customers offered in the profile's select box (search narrows the list)


def customer_choices(view: pd.DataFrame, selected_row: pd.DataFrame | None) -> tuple[list[str], dict]:
    """Options for the customer picker: the first rows of the current list (plus the customer
    already open), and their labels "id · name"."""
    head = view.head(PICK_ROWS)
    ids = head["customer_id"].tolist()
    names = head["name"].tolist() if "name" in head.columns else [None] * len(ids)
    if selected_row is not None and len(selected_row):
        chosen = selected_row["customer_id"].iloc[0]
        if chosen not in ids:
            ids.insert(0, chosen)
            names.insert(0, selected_row["name"].iloc[0] if "name" in selected_row.columns else None)
    labels = {c: f"{c} · {n}" for c, n in zip(ids, names) if isinstance(n, str) and n}
    return ids, labels


def score_text(row) -> str:
    """A customer's scores as "R 5 · F 3 · M 4" (the dimensions the data has)."""
    letters = {"r_score": "R", "f_score": "F", "m_score": "M", "a_score": "A", "b_score": "B"}
    return " · ".join(f"{letter} {int(row[c])}" for c, letter in letters.items()
                      if c in row and not fmt.is_missing(row[c]))
