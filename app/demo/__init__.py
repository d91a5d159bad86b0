"""The demo province: Vĩnh Phúc, plan years 2023 and 2024, as known on 2024-10-11 (`python -m app demo`)."""
