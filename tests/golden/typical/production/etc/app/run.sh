#!/bin/sh
exec /srv/shop/bin/run
