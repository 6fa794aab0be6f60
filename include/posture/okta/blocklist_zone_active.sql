-- title: An active blocklist network zone blocks something
-- severity: medium
-- rationale: Blocking anonymizers (Tor), known-bad IP ranges or countries at the edge stops password
--   spraying and session replay before any policy is evaluated; Okta creates BlockedIpZone empty.
-- remediation: Security > Networks: add IPs, locations, ASNs or an anonymizer proxy type to a blocklist
--   zone (e.g. BlockedIpZone or a dynamic zone blocking Tor) and keep it active.
-- baselines: Okta Help: Network zones (blocklist zones), Okta Security: Secure your Okta org (block anonymizing proxies)
-- settings: network_zones
-- events: zone.update, zone.activate, zone.deactivate
with zones as (
    select item->>'name' as name,
           item->>'status' = 'ACTIVE' and item->>'usage' = 'BLOCKLIST'
           and (coalesce(json_array_length(item->'gateways'), 0) > 0
                or coalesce(json_array_length(item->'locations'), 0) > 0
                or coalesce(json_array_length(item->'asns'), 0) > 0
                or coalesce(item->>'proxyType', 'null') in ('Any', 'Tor')) as blocks
    from setting_items('network_zones')
)
select case when count(*) = 0 then null else coalesce(bool_or(blocks), false) end as passed,
       'active blocklist zones that block something: '
       || coalesce(string_agg(case when blocks then name end, ', ' order by name), 'none') as detail
from zones
