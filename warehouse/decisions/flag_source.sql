-- decisions.flag_source: 预警线索来源. The flags of every build under the stable id that decisions refer to (decisions.flag_match).
-- grain: as_of, flag_id
-- Why: which registered flag a build's flag is depends on the evidence and on the decisions
-- already taken (new evidence after a decision is a new flag), so it is decided once, when the
-- build is copied to the register (sync_flags), and recorded in decisions.flag_match. A build
-- not synced yet has no flag_id here. Proposals only (candidates and warnings): S1 promotion
-- blocks are in the register for their decisions (decisions.flag_raised, flag_state) but are
-- no proposal, so the review, the stock-take and the fairness views never count them.
-- column flag_id: 线索编号 in the register (decisions.flag_register).
select flag_match.flag_id, raised.*
from decisions.flag_raised as raised
left join decisions.flag_match as flag_match using (as_of, id_number, rule_id)
where raised.severity in ('candidate', 'warning')
