/* units.h - exact unit conversions used across treadlab.
 * 1 mph = 1.609344 km/h exactly (international mile, 1959); docs/clinical.md, Protocols. */
#ifndef TL_UNITS_H
#define TL_UNITS_H

#define TL_KMH_PER_MPH 1.609344

static inline double tl_mph_to_kmh(double mph) { return mph * TL_KMH_PER_MPH; }
static inline double tl_kmh_to_mph(double kmh) { return kmh / TL_KMH_PER_MPH; }
/* km/h to metres per millisecond: 1 km/h = 1000 m / 3 600 000 ms. */
static inline double tl_kmh_to_m_per_ms(double kmh) { return kmh / 3600.0; }

#endif
