-- Whether this transaction set the setting flag to on (it holds the usage lock).
select current_setting(:flag, true) = 'on'
