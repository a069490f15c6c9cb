# SPDX-License-Identifier: MIT
"""v6trace's package: reader (bt2, fast), model (processes, tree), tokens (the token flow),
lint (the classic mistakes), export (Chrome JSON), diagram (SVG / Mermaid), cli."""
