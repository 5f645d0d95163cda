import { Body, Controller, Get, HttpCode, Ip, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags, ApiTooManyRequestsResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { AuthService, CurrentUser, Principal, Public } from '@tally/auth';
import { UsersService } from '@tally/users';
import { LoginThrottle } from './login-throttle';
import { LoginDto, RefreshDto, SessionDto, SignupDto, toUserDto, TokensDto, UserDto } from './auth.dto';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly users: UsersService,
    private readonly throttle: LoginThrottle,
  ) {}

  @Public()
  @Post('signup')
  @ApiOkResponse({ type: SessionDto })
  async signup(@Body() dto: SignupDto): Promise<SessionDto> {
    const { user, tokens } = await this.auth.signup(dto);
    return { ...tokens, user: toUserDto(user) };
  }

  /** Email + password; failed attempts are throttled per account and per address (LoginThrottle). */
  @Public()
  @Post('login')
  @HttpCode(200)
  @ApiOkResponse({ type: SessionDto })
  @ApiUnauthorizedResponse({ description: 'INVALID_CREDENTIALS' })
  @ApiTooManyRequestsResponse({ description: 'TOO_MANY_LOGIN_ATTEMPTS, with Retry-After' })
  async login(@Body() dto: LoginDto, @Ip() ip: string): Promise<SessionDto> {
    const user = await this.throttle.guard(dto.email, ip, () => this.auth.validateCredentials(dto.email, dto.password));
    return { ...(await this.auth.login(user)), user: toUserDto(user) };
  }

  /** Rotates the refresh token; a token used twice revokes its whole family. */
  @Public()
  @Post('refresh')
  @HttpCode(200)
  @ApiOkResponse({ type: TokensDto })
  refresh(@Body() dto: RefreshDto): Promise<TokensDto> {
    return this.auth.refresh(dto.refreshToken);
  }

  @Public()
  @Post('logout')
  @HttpCode(204)
  async logout(@Body() dto: RefreshDto): Promise<void> {
    await this.auth.logout(dto.refreshToken);
  }

  @ApiBearerAuth()
  @Get('me')
  @ApiOkResponse({ type: UserDto })
  async me(@CurrentUser() me: Principal): Promise<UserDto> {
    return toUserDto(await this.users.get(me.id));
  }
}
