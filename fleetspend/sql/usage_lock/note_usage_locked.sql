-- Sets the setting flag to on for the rest of the transaction: it holds the usage lock.
select set_config(:flag, 'on', true)
