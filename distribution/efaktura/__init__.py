"""eFaktura B2C through an adapter of ours (schemas/efaktura-adapter-api.json) before the bank network."""
