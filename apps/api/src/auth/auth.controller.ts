import { Body, Controller, Get, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { AuthService, CurrentUser, Principal, Public } from '@tally/auth';
import { UserEntity, UsersService } from '@tally/users';
import { LoginDto, RefreshDto, SessionDto, SignupDto, toUserDto, TokensDto, UserDto } from './auth.dto';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly users: UsersService,
  ) {}

  @Public()
  @Post('signup')
  @ApiOkResponse({ type: SessionDto })
  async signup(@Body() dto: SignupDto): Promise<SessionDto> {
    const { user, tokens } = await this.auth.signup(dto);
    return { ...tokens, user: toUserDto(user) };
  }

  /** passport-local checks email + password; the body is validated by LoginDto first. */
  @Public()
  @Post('login')
  @HttpCode(200)
  @UseGuards(AuthGuard('local'))
  @ApiOkResponse({ type: SessionDto })
  async login(@Body() _dto: LoginDto, @Req() req: { user: UserEntity }): Promise<SessionDto> {
    return { ...(await this.auth.login(req.user)), user: toUserDto(req.user) };
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
