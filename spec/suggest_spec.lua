-- hwcloud.suggest: the one "did you mean" measure (options, a request's
-- fields through hwcloud.marshal, operations, waiters, CLI words).

local suggest = require "hwcloud.suggest"

describe("hwcloud.suggest", function()
  it("gives the nearest name (case-insensitive) when it is close enough", function()
    assert.are.equal("region", suggest.closest("Regoin", { "project_id", "region" }))
    assert.is_nil(suggest.closest("zzzzzz", { "region" }))
    assert.is_nil(suggest.closest(string.rep("a", 65), { string.rep("a", 65) }))
    assert.are.equal("region", suggest.closest("regoin", { "region", "project_id", 42 }))
  end)

  it("measures the Levenshtein distance, up to max(2, #name / 3) close", function()
    assert.are.equal(3, suggest.distance("kitten", "sitting"))
    assert.are.equal(0, suggest.distance("ABC", "abc"))
    assert.are.equal(1, suggest.distance("", "a"))
    assert.are.equal(math.huge, suggest.distance(string.rep("x", 65), "x"))
    assert.is_nil(suggest.closest("kitten", { "sitting" }))
    assert.are.equal("abcdefghi", suggest.closest("abXdeYghZ", { "abcdefghi" })) -- 3 <= 9 / 3
    assert.is_nil(suggest.closest("abXdeYgZ", { "abcdefgh" }))
    -- the first of equally close names
    assert.are.equal("ab", suggest.closest("aa", { "ab", "ba" }))
  end)

  it("words the hint", function()
    assert.are.equal("endpoint", suggest.closest("endpiont", { "region", "endpoint" }))
    assert.are.equal(" (did you mean 'endpoint'?)", suggest.hint("endpiont", { "endpoint" }))
    assert.are.equal("", suggest.hint("zzzz", { "endpoint" }))
  end)
end)
