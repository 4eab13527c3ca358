"""The rules of the group: pydantic models of rules/*.yaml and their loading."""
