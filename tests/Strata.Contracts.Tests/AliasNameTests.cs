using Strata.Contracts.Errors;
using Strata.Contracts.Registry;

namespace Strata.Contracts.Tests;

public class AliasNameTests
{
    [Theory]
    [InlineData("champion")]
    [InlineData("challenger-2")]
    [InlineData("v1a")]
    [InlineData("shadow_blue")]
    public void Validate_Allowed_DoesNotThrow(string alias) => AliasName.Validate(alias);

    [Theory]
    [InlineData("latest")]
    [InlineData("LATEST")]
    [InlineData("v1")]
    [InlineData("V12")]
    [InlineData("")]
    [InlineData("a b")]
    [InlineData("a/b")]
    public void Validate_ReservedOrMalformed_Throws(string alias) =>
        Assert.Equal("alias", Assert.Throws<InputValidationException>(() => AliasName.Validate(alias)).Field);

    [Theory]
    [InlineData("../etc")]
    [InlineData("")]
    [InlineData(".hidden")]
    public void ValidateModelName_Malformed_Throws(string model) =>
        Assert.Equal("model", Assert.Throws<InputValidationException>(() => AliasName.ValidateModelName(model)).Field);
}
