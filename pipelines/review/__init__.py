"""Review: what people do with the flags.

Owns the decision log and its state machine, decision drops, the 集中会诊 / 复检 / 定期盘点
reports' data and their composition. Reads build's tables; draws through ``render``."""
