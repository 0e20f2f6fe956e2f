WITH `t4` AS (
  SELECT
    *
  FROM `events` AS `t1`
  WHERE
    `t1`.`event` IN ('order_completed')
    AND `t1`.`ts` <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMP)
), `t11` AS (
  SELECT
    *
  FROM `profiles` AS `t2`
  WHERE
    `t2`.`customer_id` IS NOT NULL
    AND (
      (
        `t2`.`created_at` <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMP)
      )
      OR (
        (
          `t2`.`created_at` IS NULL
        )
        AND (
          (
            `t2`.`first_event_at` IS NULL
          )
          OR (
            `t2`.`first_event_at` <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMP)
          )
        )
      )
    )
), `t29` AS (
  SELECT
    *
  FROM (
    SELECT
      `t20`.`day` - LAG(`t20`.`day`) OVER (PARTITION BY `t20`.`pid` ORDER BY `t20`.`day` ASC NULLS LAST) AS `gap`
    FROM (
      SELECT DISTINCT
        *
      FROM (
        SELECT
          `t7`.`pid`,
          CAST(FLOOR((
            UNIX_MICROS(`t7`.`ts`)
          ) / (
            86400000000
          )) AS BIGINT) AS `day`
        FROM `t4` AS `t7`
      ) AS `t15`
    ) AS `t20`
  ) AS `t27`
  WHERE
    `t27`.`gap` IS NOT NULL
)
SELECT
  `t55`.`customer_id`
FROM (
  SELECT
    `t54`.`pid`,
    `t54`.`customer_id`,
    `t54`.`created_at`,
    `t54`.`first_event_at`,
    `t54`.`last_event_at`,
    `t54`.`email`,
    `t54`.`phone`,
    `t54`.`first_name`,
    `t54`.`last_name`,
    `t54`.`country`,
    `t54`.`region`,
    `t54`.`city`,
    `t54`.`postal_code`,
    `t54`.`gender`,
    `t54`.`birth_date`,
    `t54`.`email_consent`,
    `t54`.`sms_consent`,
    `t54`.`x_attr_0`,
    `t54`.`x_attr_1`,
    `t54`.`x_attr_2`,
    `t54`.`x_attr_3`,
    `t54`.`x_attr_4`,
    `t54`.`x_attr_5`,
    `t54`.`x_attr_6`,
    CAST(FLOOR(
      (
        UNIX_MICROS(CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMP)) - UNIX_MICROS(`t54`.`last_seen`)
      ) / (
        86400000000
      )
    ) AS BIGINT) AS `days_since_last_seen`,
    `t54`.`rfm_segment`,
    CASE
      WHEN `t54`.`orders_count` IS NULL
      THEN 'subscriber'
      WHEN CAST(FLOOR(
        (
          UNIX_MICROS(CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMP)) - UNIX_MICROS(`t54`.`last_order_at`)
        ) / (
          86400000000
        )
      ) AS BIGINT) > `t54`.`churned_days`
      THEN 'churned'
      WHEN CAST(FLOOR(
        (
          UNIX_MICROS(CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMP)) - UNIX_MICROS(`t54`.`last_order_at`)
        ) / (
          86400000000
        )
      ) AS BIGINT) > `t54`.`lapsed_days`
      THEN 'lapsed'
      WHEN CAST(FLOOR(
        (
          UNIX_MICROS(CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMP)) - UNIX_MICROS(`t54`.`last_order_at`)
        ) / (
          86400000000
        )
      ) AS BIGINT) > `t54`.`at_risk_days`
      THEN 'at_risk'
      WHEN `t54`.`orders_count` >= `t54`.`loyal_orders`
      THEN 'loyal'
      WHEN `t54`.`orders_count` >= 2
      THEN 'repeat_buyer'
      ELSE 'first_time_buyer'
    END AS `lifecycle_stage`,
    `t54`.`p_alive`
  FROM (
    SELECT
      `t53`.`pid`,
      `t53`.`customer_id`,
      `t53`.`created_at`,
      `t53`.`first_event_at`,
      `t53`.`last_event_at`,
      `t53`.`email`,
      `t53`.`phone`,
      `t53`.`first_name`,
      `t53`.`last_name`,
      `t53`.`country`,
      `t53`.`region`,
      `t53`.`city`,
      `t53`.`postal_code`,
      `t53`.`gender`,
      `t53`.`birth_date`,
      `t53`.`email_consent`,
      `t53`.`sms_consent`,
      `t53`.`x_attr_0`,
      `t53`.`x_attr_1`,
      `t53`.`x_attr_2`,
      `t53`.`x_attr_3`,
      `t53`.`x_attr_4`,
      `t53`.`x_attr_5`,
      `t53`.`x_attr_6`,
      `t53`.`orders_count`,
      `t53`.`revenue_total`,
      `t53`.`first_order_at`,
      `t53`.`last_order_at`,
      `t53`.`orders_60d`,
      `t53`.`orders_prior_60d`,
      `t53`.`scanned_last`,
      `t53`.`last_seen`,
      `t53`.`p_alive`,
      `t53`.`predicted_orders_365d`,
      `t53`.`predicted_clv_365d`,
      `t53`.`at_risk_days`,
      `t53`.`lapsed_days`,
      `t53`.`churned_days`,
      `t53`.`loyal_orders`,
      `t53`.`r_score`,
      `t53`.`f_score`,
      `t53`.`m_score`,
      `t53`.`rfm_segment`
    FROM (
      SELECT
        `t49`.`pid`,
        `t49`.`customer_id`,
        `t49`.`created_at`,
        `t49`.`first_event_at`,
        `t49`.`last_event_at`,
        `t49`.`email`,
        `t49`.`phone`,
        `t49`.`first_name`,
        `t49`.`last_name`,
        `t49`.`country`,
        `t49`.`region`,
        `t49`.`city`,
        `t49`.`postal_code`,
        `t49`.`gender`,
        `t49`.`birth_date`,
        `t49`.`email_consent`,
        `t49`.`sms_consent`,
        `t49`.`x_attr_0`,
        `t49`.`x_attr_1`,
        `t49`.`x_attr_2`,
        `t49`.`x_attr_3`,
        `t49`.`x_attr_4`,
        `t49`.`x_attr_5`,
        `t49`.`x_attr_6`,
        `t49`.`orders_count`,
        `t49`.`revenue_total`,
        `t49`.`first_order_at`,
        `t49`.`last_order_at`,
        `t49`.`orders_60d`,
        `t49`.`orders_prior_60d`,
        `t49`.`scanned_last`,
        `t49`.`last_seen`,
        `t49`.`p_alive`,
        `t49`.`predicted_orders_365d`,
        `t49`.`predicted_clv_365d`,
        `t46`.`at_risk_days`,
        `t46`.`lapsed_days`,
        `t46`.`churned_days`,
        `t46`.`loyal_orders`,
        `t52`.`pid` AS `pid_right`,
        `t52`.`r_score`,
        `t52`.`f_score`,
        `t52`.`m_score`,
        `t52`.`rfm_segment`
      FROM (
        SELECT
          `t47`.`pid`,
          `t47`.`customer_id`,
          `t47`.`created_at`,
          `t47`.`first_event_at`,
          `t47`.`last_event_at`,
          `t47`.`email`,
          `t47`.`phone`,
          `t47`.`first_name`,
          `t47`.`last_name`,
          `t47`.`country`,
          `t47`.`region`,
          `t47`.`city`,
          `t47`.`postal_code`,
          `t47`.`gender`,
          `t47`.`birth_date`,
          `t47`.`email_consent`,
          `t47`.`sms_consent`,
          `t47`.`x_attr_0`,
          `t47`.`x_attr_1`,
          `t47`.`x_attr_2`,
          `t47`.`x_attr_3`,
          `t47`.`x_attr_4`,
          `t47`.`x_attr_5`,
          `t47`.`x_attr_6`,
          `t47`.`orders_count`,
          `t47`.`revenue_total`,
          `t47`.`first_order_at`,
          `t47`.`last_order_at`,
          `t47`.`orders_60d`,
          `t47`.`orders_prior_60d`,
          `t47`.`scanned_last`,
          `t47`.`last_seen`,
          `t47`.`p_alive`,
          `t47`.`predicted_orders_365d`,
          `t47`.`predicted_clv_365d`
        FROM (
          SELECT
            `t41`.`pid`,
            `t41`.`customer_id`,
            `t41`.`created_at`,
            `t41`.`first_event_at`,
            `t41`.`last_event_at`,
            `t41`.`email`,
            `t41`.`phone`,
            `t41`.`first_name`,
            `t41`.`last_name`,
            `t41`.`country`,
            `t41`.`region`,
            `t41`.`city`,
            `t41`.`postal_code`,
            `t41`.`gender`,
            `t41`.`birth_date`,
            `t41`.`email_consent`,
            `t41`.`sms_consent`,
            `t41`.`x_attr_0`,
            `t41`.`x_attr_1`,
            `t41`.`x_attr_2`,
            `t41`.`x_attr_3`,
            `t41`.`x_attr_4`,
            `t41`.`x_attr_5`,
            `t41`.`x_attr_6`,
            `t41`.`orders_count`,
            `t41`.`revenue_total`,
            `t41`.`first_order_at`,
            `t41`.`last_order_at`,
            `t41`.`orders_60d`,
            `t41`.`orders_prior_60d`,
            `t41`.`scanned_last`,
            `t41`.`last_seen`,
            `t9`.`pid` AS `pid_right`,
            `t9`.`p_alive`,
            `t9`.`predicted_orders_365d`,
            `t9`.`predicted_clv_365d`
          FROM (
            SELECT
              `t37`.`pid`,
              `t37`.`customer_id`,
              `t37`.`created_at`,
              `t37`.`first_event_at`,
              `t37`.`last_event_at`,
              `t37`.`email`,
              `t37`.`phone`,
              `t37`.`first_name`,
              `t37`.`last_name`,
              `t37`.`country`,
              `t37`.`region`,
              `t37`.`city`,
              `t37`.`postal_code`,
              `t37`.`gender`,
              `t37`.`birth_date`,
              `t37`.`email_consent`,
              `t37`.`sms_consent`,
              `t37`.`x_attr_0`,
              `t37`.`x_attr_1`,
              `t37`.`x_attr_2`,
              `t37`.`x_attr_3`,
              `t37`.`x_attr_4`,
              `t37`.`x_attr_5`,
              `t37`.`x_attr_6`,
              `t37`.`orders_count`,
              `t37`.`revenue_total`,
              `t37`.`first_order_at`,
              `t37`.`last_order_at`,
              `t37`.`orders_60d`,
              `t37`.`orders_prior_60d`,
              `t37`.`scanned_last`,
              IF(
                COALESCE(`t37`.`last_event_at` <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMP), FALSE),
                `t37`.`last_event_at`,
                `t37`.`scanned_last`
              ) AS `last_seen`
            FROM (
              SELECT
                `t36`.`pid`,
                `t36`.`customer_id`,
                `t36`.`created_at`,
                `t36`.`first_event_at`,
                `t36`.`last_event_at`,
                `t36`.`email`,
                `t36`.`phone`,
                `t36`.`first_name`,
                `t36`.`last_name`,
                `t36`.`country`,
                `t36`.`region`,
                `t36`.`city`,
                `t36`.`postal_code`,
                `t36`.`gender`,
                `t36`.`birth_date`,
                `t36`.`email_consent`,
                `t36`.`sms_consent`,
                `t36`.`x_attr_0`,
                `t36`.`x_attr_1`,
                `t36`.`x_attr_2`,
                `t36`.`x_attr_3`,
                `t36`.`x_attr_4`,
                `t36`.`x_attr_5`,
                `t36`.`x_attr_6`,
                `t36`.`orders_count`,
                `t36`.`revenue_total`,
                `t36`.`first_order_at`,
                `t36`.`last_order_at`,
                `t36`.`orders_60d`,
                `t36`.`orders_prior_60d`,
                `t36`.`scanned_last`
              FROM (
                SELECT
                  `t33`.`pid`,
                  `t33`.`customer_id`,
                  `t33`.`created_at`,
                  `t33`.`first_event_at`,
                  `t33`.`last_event_at`,
                  `t33`.`email`,
                  `t33`.`phone`,
                  `t33`.`first_name`,
                  `t33`.`last_name`,
                  `t33`.`country`,
                  `t33`.`region`,
                  `t33`.`city`,
                  `t33`.`postal_code`,
                  `t33`.`gender`,
                  `t33`.`birth_date`,
                  `t33`.`email_consent`,
                  `t33`.`sms_consent`,
                  `t33`.`x_attr_0`,
                  `t33`.`x_attr_1`,
                  `t33`.`x_attr_2`,
                  `t33`.`x_attr_3`,
                  `t33`.`x_attr_4`,
                  `t33`.`x_attr_5`,
                  `t33`.`x_attr_6`,
                  `t33`.`orders_count`,
                  `t33`.`revenue_total`,
                  `t33`.`first_order_at`,
                  `t33`.`last_order_at`,
                  `t33`.`orders_60d`,
                  `t33`.`orders_prior_60d`,
                  `t28`.`pid` AS `pid_right`,
                  `t28`.`scanned_last`
                FROM (
                  SELECT
                    `t30`.`pid`,
                    `t30`.`customer_id`,
                    `t30`.`created_at`,
                    `t30`.`first_event_at`,
                    `t30`.`last_event_at`,
                    `t30`.`email`,
                    `t30`.`phone`,
                    `t30`.`first_name`,
                    `t30`.`last_name`,
                    `t30`.`country`,
                    `t30`.`region`,
                    `t30`.`city`,
                    `t30`.`postal_code`,
                    `t30`.`gender`,
                    `t30`.`birth_date`,
                    `t30`.`email_consent`,
                    `t30`.`sms_consent`,
                    `t30`.`x_attr_0`,
                    `t30`.`x_attr_1`,
                    `t30`.`x_attr_2`,
                    `t30`.`x_attr_3`,
                    `t30`.`x_attr_4`,
                    `t30`.`x_attr_5`,
                    `t30`.`x_attr_6`,
                    `t30`.`orders_count`,
                    `t30`.`revenue_total`,
                    `t30`.`first_order_at`,
                    `t30`.`last_order_at`,
                    `t30`.`orders_60d`,
                    `t30`.`orders_prior_60d`
                  FROM (
                    SELECT
                      `t17`.`pid`,
                      `t17`.`customer_id`,
                      `t17`.`created_at`,
                      `t17`.`first_event_at`,
                      `t17`.`last_event_at`,
                      `t17`.`email`,
                      `t17`.`phone`,
                      `t17`.`first_name`,
                      `t17`.`last_name`,
                      `t17`.`country`,
                      `t17`.`region`,
                      `t17`.`city`,
                      `t17`.`postal_code`,
                      `t17`.`gender`,
                      `t17`.`birth_date`,
                      `t17`.`email_consent`,
                      `t17`.`sms_consent`,
                      `t17`.`x_attr_0`,
                      `t17`.`x_attr_1`,
                      `t17`.`x_attr_2`,
                      `t17`.`x_attr_3`,
                      `t17`.`x_attr_4`,
                      `t17`.`x_attr_5`,
                      `t17`.`x_attr_6`,
                      `t26`.`pid` AS `pid_right`,
                      `t26`.`orders_count`,
                      `t26`.`revenue_total`,
                      `t26`.`first_order_at`,
                      `t26`.`last_order_at`,
                      `t26`.`orders_60d`,
                      `t26`.`orders_prior_60d`
                    FROM `t11` AS `t17`
                    LEFT OUTER JOIN (
                      SELECT
                        `t19`.`pid`,
                        `t19`.`orders_count`,
                        `t19`.`revenue_total`,
                        `t19`.`first_order_at`,
                        `t19`.`last_order_at`,
                        `t19`.`orders_60d`,
                        `t19`.`orders_prior_60d`
                      FROM (
                        SELECT
                          `t7`.`pid`,
                          COUNT(*) AS `orders_count`,
                          COALESCE(SUM(`t7`.`revenue`), 0) AS `revenue_total`,
                          MIN(`t7`.`ts`) AS `first_order_at`,
                          MAX(`t7`.`ts`) AS `last_order_at`,
                          SUM(CAST(`t7`.`ts` > CAST('2026-09-02T00:00:00+00:00' AS TIMESTAMP) AS BIGINT)) AS `orders_60d`,
                          SUM(
                            CAST((
                              `t7`.`ts` > CAST('2026-07-04T00:00:00+00:00' AS TIMESTAMP)
                            )
                            AND (
                              `t7`.`ts` <= CAST('2026-09-02T00:00:00+00:00' AS TIMESTAMP)
                            ) AS BIGINT)
                          ) AS `orders_prior_60d`
                        FROM `t4` AS `t7`
                        GROUP BY
                          1
                      ) AS `t19`
                      LEFT SEMI JOIN `t11` AS `t16`
                        ON `t19`.`pid` = `t16`.`pid`
                    ) AS `t26`
                      ON `t17`.`pid` = `t26`.`pid`
                  ) AS `t30`
                ) AS `t33`
                LEFT OUTER JOIN (
                  SELECT
                    `t21`.`pid`,
                    MAX(`t21`.`ts`) AS `scanned_last`
                  FROM (
                    SELECT
                      `t8`.`pid`,
                      `t8`.`event`,
                      `t8`.`ts`,
                      `t8`.`revenue`,
                      `t8`.`properties`
                    FROM (
                      SELECT
                        *
                      FROM `events` AS `t1`
                      WHERE
                        `t1`.`ts` <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMP)
                    ) AS `t8`
                    LEFT SEMI JOIN (
                      SELECT
                        `t2`.`pid`
                      FROM `profiles` AS `t2`
                      WHERE
                        `t2`.`customer_id` IS NOT NULL
                        AND (
                          (
                            `t2`.`created_at` <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMP)
                          )
                          OR (
                            (
                              `t2`.`created_at` IS NULL
                            )
                            AND (
                              (
                                `t2`.`first_event_at` IS NULL
                              )
                              OR (
                                `t2`.`first_event_at` <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMP)
                              )
                            )
                          )
                        )
                        AND `t2`.`last_event_at` > CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMP)
                    ) AS `t14`
                      ON `t8`.`pid` = `t14`.`pid`
                  ) AS `t21`
                  GROUP BY
                    1
                ) AS `t28`
                  ON `t33`.`pid` = `t28`.`pid`
              ) AS `t36`
            ) AS `t37`
          ) AS `t41`
          LEFT OUTER JOIN (
            SELECT
              `t3`.`pid`,
              `t3`.`p_alive`,
              `t3`.`predicted_orders_365d`,
              `t3`.`predicted_clv_365d`
            FROM (
              SELECT
                *
              FROM `clv_predictions` AS `t0`
              WHERE
                `t0`.`fit_id` = 1
            ) AS `t3`
          ) AS `t9`
            ON `t41`.`pid` = `t9`.`pid`
        ) AS `t47`
      ) AS `t49`
      CROSS JOIN (
        SELECT
          `t42`.`at_risk_days`,
          `t42`.`lapsed_days`,
          `t42`.`churned_days`,
          `t23`.`loyal_orders`
        FROM (
          SELECT
            IF(`t34`.`n_gaps` >= 30, GREATEST(CAST(CEIL(`t34`.`q_at_risk`) AS BIGINT), 1), 90) AS `at_risk_days`,
            GREATEST(
              IF(`t34`.`n_gaps` >= 30, GREATEST(CAST(CEIL(`t34`.`q_lapsed`) AS BIGINT), 1), 180),
              IF(`t34`.`n_gaps` >= 30, GREATEST(CAST(CEIL(`t34`.`q_at_risk`) AS BIGINT), 1), 90) + 1
            ) AS `lapsed_days`,
            GREATEST(
              IF(`t34`.`n_gaps` >= 30, GREATEST(CAST(CEIL(`t34`.`q_churned`) AS BIGINT), 1), 365),
              GREATEST(
                IF(`t34`.`n_gaps` >= 30, GREATEST(CAST(CEIL(`t34`.`q_lapsed`) AS BIGINT), 1), 180),
                IF(`t34`.`n_gaps` >= 30, GREATEST(CAST(CEIL(`t34`.`q_at_risk`) AS BIGINT), 1), 90) + 1
              ) + 1
            ) AS `churned_days`
          FROM (
            SELECT
              COUNT(*) AS `n_gaps`,
              PERCENTILE(`t31`.`gap`, 0.75) AS `q_at_risk`,
              PERCENTILE(`t31`.`gap`, 0.9) AS `q_lapsed`,
              PERCENTILE(`t31`.`gap`, 0.97) AS `q_churned`
            FROM `t29` AS `t31`
          ) AS `t34`
        ) AS `t42`
        CROSS JOIN (
          SELECT
            GREATEST(COALESCE(CAST(CEIL(PERCENTILE(`t10`.`n`, 0.8)) AS BIGINT), 3), 3) AS `loyal_orders`
          FROM (
            SELECT
              `t7`.`pid`,
              COUNT(*) AS `n`
            FROM `t4` AS `t7`
            GROUP BY
              1
          ) AS `t10`
        ) AS `t23`
      ) AS `t46`
      LEFT OUTER JOIN (
        SELECT
          `t50`.`pid`,
          `t50`.`r_score`,
          `t50`.`f_score`,
          `t50`.`m_score`,
          CASE (
              `t50`.`r_score` * 10
            ) + CAST(FLOOR((
              `t50`.`f_score` + `t50`.`m_score` + 1
            ) / (
              2
            )) AS BIGINT)
            WHEN 51
            THEN 'New'
            WHEN 52
            THEN 'Potential Loyalist'
            WHEN 53
            THEN 'Potential Loyalist'
            WHEN 54
            THEN 'Champions'
            WHEN 55
            THEN 'Champions'
            WHEN 41
            THEN 'Promising'
            WHEN 42
            THEN 'Potential Loyalist'
            WHEN 43
            THEN 'Loyal'
            WHEN 44
            THEN 'Loyal'
            WHEN 45
            THEN 'Champions'
            WHEN 31
            THEN 'About to Sleep'
            WHEN 32
            THEN 'Need Attention'
            WHEN 33
            THEN 'Need Attention'
            WHEN 34
            THEN 'Loyal'
            WHEN 35
            THEN 'Loyal'
            WHEN 21
            THEN 'Hibernating'
            WHEN 22
            THEN 'About to Sleep'
            WHEN 23
            THEN 'At Risk'
            WHEN 24
            THEN 'At Risk'
            WHEN 25
            THEN 'Can\'t Lose'
            WHEN 11
            THEN 'Lost'
            WHEN 12
            THEN 'Hibernating'
            WHEN 13
            THEN 'Hibernating'
            WHEN 14
            THEN 'Hibernating'
            WHEN 15
            THEN 'Hibernating'
            ELSE NULL
          END AS `rfm_segment`
        FROM (
          SELECT
            `t45`.`pid`,
            CAST(CASE
              WHEN `t45`.`days` <= `t45`.`recent_days`
              THEN 5
              WHEN `t45`.`days` <= `t45`.`at_risk_days`
              THEN 4
              WHEN `t45`.`days` <= `t45`.`lapsed_days`
              THEN 3
              WHEN `t45`.`days` <= `t45`.`churned_days`
              THEN 2
              ELSE 1
            END AS BIGINT) AS `r_score`,
            CAST(FLOOR(
              (
                (
                  RANK() OVER (ORDER BY `t45`.`n` ASC NULLS LAST) - 1
                ) * 5
              ) / (
                COUNT(*) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
              )
            ) AS BIGINT) + 1 AS `f_score`,
            CAST(FLOOR(
              (
                (
                  RANK() OVER (ORDER BY `t45`.`money` ASC NULLS LAST) - 1
                ) * 5
              ) / (
                COUNT(*) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
              )
            ) AS BIGINT) + 1 AS `m_score`
          FROM (
            SELECT
              `t19`.`pid`,
              CAST(FLOOR(
                (
                  UNIX_MICROS(CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMP)) - UNIX_MICROS(`t19`.`last_order_at`)
                ) / (
                  86400000000
                )
              ) AS BIGINT) AS `days`,
              `t19`.`orders_count` AS `n`,
              `t19`.`revenue_total` AS `money`,
              `t43`.`at_risk_days`,
              `t43`.`lapsed_days`,
              `t43`.`churned_days`,
              `t43`.`recent_days`
            FROM (
              SELECT
                `t7`.`pid`,
                COUNT(*) AS `orders_count`,
                COALESCE(SUM(`t7`.`revenue`), 0) AS `revenue_total`,
                MIN(`t7`.`ts`) AS `first_order_at`,
                MAX(`t7`.`ts`) AS `last_order_at`,
                SUM(CAST(`t7`.`ts` > CAST('2026-09-02T00:00:00+00:00' AS TIMESTAMP) AS BIGINT)) AS `orders_60d`,
                SUM(
                  CAST((
                    `t7`.`ts` > CAST('2026-07-04T00:00:00+00:00' AS TIMESTAMP)
                  )
                  AND (
                    `t7`.`ts` <= CAST('2026-09-02T00:00:00+00:00' AS TIMESTAMP)
                  ) AS BIGINT)
                ) AS `orders_prior_60d`
              FROM `t4` AS `t7`
              GROUP BY
                1
            ) AS `t19`
            LEFT SEMI JOIN `t11` AS `t16`
              ON `t19`.`pid` = `t16`.`pid`
            CROSS JOIN (
              SELECT
                IF(`t35`.`n_gaps` >= 30, GREATEST(CAST(CEIL(`t35`.`q_at_risk`) AS BIGINT), 1), 90) AS `at_risk_days`,
                GREATEST(
                  IF(`t35`.`n_gaps` >= 30, GREATEST(CAST(CEIL(`t35`.`q_lapsed`) AS BIGINT), 1), 180),
                  IF(`t35`.`n_gaps` >= 30, GREATEST(CAST(CEIL(`t35`.`q_at_risk`) AS BIGINT), 1), 90) + 1
                ) AS `lapsed_days`,
                GREATEST(
                  IF(`t35`.`n_gaps` >= 30, GREATEST(CAST(CEIL(`t35`.`q_churned`) AS BIGINT), 1), 365),
                  GREATEST(
                    IF(`t35`.`n_gaps` >= 30, GREATEST(CAST(CEIL(`t35`.`q_lapsed`) AS BIGINT), 1), 180),
                    IF(`t35`.`n_gaps` >= 30, GREATEST(CAST(CEIL(`t35`.`q_at_risk`) AS BIGINT), 1), 90) + 1
                  ) + 1
                ) AS `churned_days`,
                LEAST(
                  IF(`t35`.`n_gaps` >= 30, GREATEST(CAST(CEIL(`t35`.`q_recent`) AS BIGINT), 1), 30),
                  IF(`t35`.`n_gaps` >= 30, GREATEST(CAST(CEIL(`t35`.`q_at_risk`) AS BIGINT), 1), 90) - 1
                ) AS `recent_days`
              FROM (
                SELECT
                  COUNT(*) AS `n_gaps`,
                  PERCENTILE(`t31`.`gap`, 0.75) AS `q_at_risk`,
                  PERCENTILE(`t31`.`gap`, 0.9) AS `q_lapsed`,
                  PERCENTILE(`t31`.`gap`, 0.97) AS `q_churned`,
                  PERCENTILE(`t31`.`gap`, 0.5) AS `q_recent`
                FROM `t29` AS `t31`
              ) AS `t35`
            ) AS `t43`
          ) AS `t45`
        ) AS `t50`
      ) AS `t52`
        ON `t49`.`pid` = `t52`.`pid`
    ) AS `t53`
  ) AS `t54`
) AS `t55`
WHERE
  COALESCE(`t55`.`rfm_segment` = 'Champions', FALSE)
  AND COALESCE(`t55`.`p_alive` > 0.5, FALSE)
  AND COALESCE(`t55`.`lifecycle_stage` <> 'churned', FALSE)
  AND COALESCE(`t55`.`days_since_last_seen` <= 30, FALSE)
