-- Each product's consumed units per pricing unit: product, consumed_per_pricing_unit.
select product, consumed_per_pricing_unit from products
