"""ehfgate distribution: the priority chain of delivery methods around the access point core."""
