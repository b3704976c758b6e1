"""Health rules for `mysqlinspect check`: model, inputs, rules, runner, config (no click, no rich)."""
