"""Backtest: what the base ref's and the working tree's alerting would have done over real history.

- `history`: where the history comes from (a Prometheus server's range queries, or an exported file),
  read at the base resolution (one point a minute) into per-minute counters of total and bad events;
- `spec`: an SLO's alerting logic read back from its rendered rule file (objective, budget, window
  pairs, thresholds, `for`, tiles, the source selectors), so each ref is judged by its own rules;
- `engine`: the alerts' firing minutes over the history, from the simulator's window math
  (generator/prometheus/simulate.py, checked minute by minute against promtool);
- `report`: the Markdown section of the review summary (`python -m generator diff --history ...`).
"""
