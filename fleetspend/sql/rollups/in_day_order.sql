-- Continues a rebuild's insert: the rows go in in (org, day) order, so a range read finds
-- them on few pages.
order by 1, 2
