"""Forms for signing in, invitations, password reset and display settings."""

from wtforms import BooleanField, EmailField, PasswordField, RadioField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from involve.kernel.forms import PlainForm


class SignInForm(PlainForm):
    sign_in = StringField("Email or username", validators=[DataRequired(
        "Enter your email address or username.")], render_kw={"autocomplete": "username"})
    password = PasswordField("Password", validators=[DataRequired("Enter your password.")],
                             render_kw={"autocomplete": "current-password"})


class CodeForm(PlainForm):
    code = StringField("The code on your card", validators=[DataRequired(
        "Enter the code printed on your card.")], render_kw={"autocomplete": "off"})


class NewPasswordForm(PlainForm):
    password = PasswordField("Choose a password", validators=[
        DataRequired("Choose a password."), Length(min=8, message="Use at least 8 characters.")],
        render_kw={"autocomplete": "new-password"})
    confirm = PasswordField("Type it again", validators=[
        EqualTo("password", message="The two passwords are not the same.")],
        render_kw={"autocomplete": "new-password"})


class ResetRequestForm(PlainForm):
    email = EmailField("Your email address", validators=[
        DataRequired("Enter your email address."), Email("Enter a full email address.")])


class DisplayForm(PlainForm):
    text_size = RadioField("Text size", choices=[
        ("normal", "Normal"), ("large", "Large"), ("larger", "Largest")], default="normal")
    high_contrast = BooleanField("High contrast (yellow on black)")
