SELECT
  "t6"."customer_id"
FROM (
  SELECT
    *
  FROM (
    SELECT
      "t0"."pid",
      "t0"."customer_id"
    FROM "profiles" AS "t0"
    WHERE
      "t0"."customer_id" IS NOT NULL
      AND (
        (
          "t0"."created_at" <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMPTZ)
        )
        OR (
          (
            "t0"."created_at" IS NULL
          )
          AND (
            (
              "t0"."first_event_at" IS NULL
            )
            OR (
              "t0"."first_event_at" <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMPTZ)
            )
          )
        )
      )
  ) AS "t2"
  WHERE
    "t2"."pid" IN (
      SELECT
        "t4"."pid"
      FROM (
        SELECT
          "t3"."pid",
          COUNT(*) FILTER(WHERE
            (
              "t3"."ts" <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMPTZ)
            )
            AND COALESCE(
              CAST(CASE
                WHEN JSONB_TYPEOF(JSONB_EXTRACT_PATH(CAST("t3"."properties" AS JSONB), 'tags')) = 'array'
                THEN ARRAY(SELECT
                  CASE
                    WHEN JSONB_TYPEOF(__ibis_param_item__) = 'string'
                    THEN JSONB_EXTRACT_PATH_TEXT(__ibis_param_item__, VARIADIC ARRAY[]::TEXT[])
                    ELSE NULL
                  END
                FROM UNNEST(CASE
                  WHEN JSONB_TYPEOF(JSONB_EXTRACT_PATH(CAST("t3"."properties" AS JSONB), 'tags')) = 'array'
                  THEN ARRAY(SELECT
                    *
                  FROM JSONB_ARRAY_ELEMENTS(JSONB_EXTRACT_PATH(CAST("t3"."properties" AS JSONB), 'tags')))
                  ELSE NULL
                END) AS __ibis_param_item__)
                ELSE CAST(NULL AS VARCHAR[])
              END AS VARCHAR[]) @> ARRAY[CAST('gift' AS VARCHAR)],
              FALSE
            )) AS "m0"
        FROM (
          SELECT
            *
          FROM "events" AS "t1"
          WHERE
            "t1"."event" = 'order_completed'
            AND "t1"."ts" <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMPTZ)
            AND COALESCE(
              CAST(CASE
                WHEN JSONB_TYPEOF(JSONB_EXTRACT_PATH(CAST("t1"."properties" AS JSONB), 'tags')) = 'array'
                THEN ARRAY(SELECT
                  CASE
                    WHEN JSONB_TYPEOF(__ibis_param_item__) = 'string'
                    THEN JSONB_EXTRACT_PATH_TEXT(__ibis_param_item__, VARIADIC ARRAY[]::TEXT[])
                    ELSE NULL
                  END
                FROM UNNEST(CASE
                  WHEN JSONB_TYPEOF(JSONB_EXTRACT_PATH(CAST("t1"."properties" AS JSONB), 'tags')) = 'array'
                  THEN ARRAY(SELECT
                    *
                  FROM JSONB_ARRAY_ELEMENTS(JSONB_EXTRACT_PATH(CAST("t1"."properties" AS JSONB), 'tags')))
                  ELSE NULL
                END) AS __ibis_param_item__)
                ELSE CAST(NULL AS VARCHAR[])
              END AS VARCHAR[]) @> ARRAY[CAST('gift' AS VARCHAR)],
              FALSE
            )
        ) AS "t3"
        GROUP BY
          1
      ) AS "t4"
      WHERE
        COALESCE("t4"."m0" >= 1, FALSE)
    )
) AS "t6"
