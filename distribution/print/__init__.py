"""Print and mail (AutoPost): the print file, its printability rules, and the print-provider client."""
