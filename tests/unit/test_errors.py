def test_old_api_spellings_are_aliases_of_the_new_ones() -> None:
    import green_api_block
    import green_api_block.sandbox as sandbox

    assert green_api_block.ApiTimeoutError is green_api_block.APITimeoutError
    assert sandbox.ApiError is sandbox.APIError
    assert {"ApiTimeoutError", "APITimeoutError"} <= set(green_api_block.__all__)
    assert {"ApiError", "APIError"} <= set(sandbox.__all__)
    # Every other public error class uses one spelling: API..., never Api... (the aliases aside).
    names = [n for n in green_api_block.__all__ + sandbox.__all__ if n.endswith("Error")]
    assert [n for n in names if n.startswith("Api") and n not in ("ApiTimeoutError", "ApiError")] == []
