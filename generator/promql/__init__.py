"""PromQL: selectors (parse, render, match), the expression parser the checks use, and the builder the rules are written with."""
