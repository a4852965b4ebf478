"""The model: definitions loaded into frozen, validated objects (SLOs and their SLI kinds, windows, invariants, teams, environments, declared metrics)."""
