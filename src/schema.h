/* schema.h: the database schema version this build expects (the highest migration in sql/).
 * A unit test checks that it matches the newest file in sql/. */
#ifndef PULSE_SCHEMA_H
#define PULSE_SCHEMA_H

#define PULSE_SCHEMA_VERSION 25

#endif
